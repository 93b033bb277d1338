package flow

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/romscan/romscan/internal/testutil"
)

var (
	accuracy    = flag.Bool("accuracy", false, "run the DroidBench accuracy harness and print its tables")
	accuracyOut = flag.String("accuracy.out", "", "write the accuracy report (markdown) to this file")
)

type benchRow struct {
	apk, category, name, leaks string
	expected, fdForward        int
	fdKnown                    bool
	found                      int           // flow findings
	implicit                   int           // implicit-flow findings (not counted as leaks)
	dur, cpu                   time.Duration // wall and process CPU time
	err                        error
}

// TestAccuracy scans every DroidBench APK and reports app-level precision,
// recall and F1 against ground-truth.tsv (run by scripts/accuracy.sh).
func TestAccuracy(t *testing.T) {
	if !*accuracy && os.Getenv("ROMSCAN_ACCURACY") == "" {
		t.Skip("accuracy harness: run with -accuracy or ROMSCAN_ACCURACY=1 (scripts/accuracy.sh)")
	}
	md := render(scanDroidBench(t))
	fmt.Println(md)
	if *accuracyOut != "" {
		if err := os.WriteFile(*accuracyOut, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Accuracy floors on DroidBench, app level: what the analyzer reached
// (docs/accuracy.md) minus 0.01. A change that loses more fails the build.
const (
	precisionFloor = 0.912
	recallFloor    = 0.894
)

// TestAccuracyFloor guards the DroidBench accuracy in a plain `go test`
// (the corpus must be present): app-level precision and recall must stay
// at or above their floors. It counts findings, never time.
func TestAccuracyFloor(t *testing.T) {
	rows := scanDroidBench(t)
	var all counts
	var missed, false_ []string
	for _, r := range rows {
		if r.leaks != "yes" && r.leaks != "no" {
			continue
		}
		truth, found := r.leaks == "yes", r.found > 0
		all.add(truth, found)
		switch {
		case truth && !found:
			missed = append(missed, r.category+"/"+r.name)
		case !truth && found:
			false_ = append(false_, r.category+"/"+r.name)
		}
	}
	if n := all.tp + all.fp + all.fn + all.tn; n < 150 {
		t.Fatalf("only %d DroidBench apps scored; the ground truth lists 188", n)
	}
	p, r, f := all.prf()
	t.Logf("DroidBench app level: TP %d FP %d FN %d TN %d, precision %.3f recall %.3f F1 %.3f", all.tp, all.fp, all.fn, all.tn, p, r, f)
	if p < precisionFloor || r < recallFloor {
		t.Errorf("DroidBench accuracy below its floor: precision %.3f (floor %.3f), recall %.3f (floor %.3f)\nmissed: %s\nfalse alarms: %s",
			p, precisionFloor, r, recallFloor, strings.Join(missed, ", "), strings.Join(false_, ", "))
	}
}

// scanDroidBench runs the analyzer on every APK of the ground truth.
func scanDroidBench(t *testing.T) []benchRow {
	gt := testutil.Corpus(t, "droidbench/ground-truth.tsv")
	dir := filepath.Dir(gt)
	rows := readTruth(t, gt)
	sigs := loadSigs(t)
	a := New()
	for i := range rows {
		r := &rows[i]
		start, cpu := time.Now(), processCPU()
		fs, err := analyzeAPK(t, a, sigs, filepath.Join(dir, r.apk))
		r.dur, r.cpu = time.Since(start), processCPU()-cpu
		r.err = err
		for _, f := range fs {
			switch f.RuleID {
			case RuleExfiltration, RuleLeak:
				r.found++
			case RuleImplicit:
				r.implicit++
			}
		}
	}
	return rows
}

func readTruth(t *testing.T, path string) []benchRow {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []benchRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 10 {
			continue
		}
		r := benchRow{apk: c[0], category: c[1], name: c[2], leaks: c[3]}
		r.expected, _ = strconv.Atoi(c[4])
		if v, err := strconv.Atoi(c[9]); err == nil {
			r.fdForward, r.fdKnown = v, true
		}
		rows = append(rows, r)
	}
	return rows
}

type counts struct{ tp, fp, fn, tn int }

func (c counts) prf() (p, r, f float64) {
	if c.tp+c.fp > 0 {
		p = float64(c.tp) / float64(c.tp+c.fp)
	}
	if c.tp+c.fn > 0 {
		r = float64(c.tp) / float64(c.tp+c.fn)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return
}

func (c *counts) add(truth, found bool) {
	switch {
	case truth && found:
		c.tp++
	case truth:
		c.fn++
	case found:
		c.fp++
	default:
		c.tn++
	}
}

func render(rows []benchRow) string {
	var b strings.Builder
	var all, fd, withImplicit counts
	cats := map[string]*counts{}
	var missed, false_ []string
	var durs, cpus []time.Duration
	var total, totalCPU time.Duration
	for _, r := range rows {
		if r.leaks != "yes" && r.leaks != "no" {
			continue
		}
		truth, found := r.leaks == "yes", r.found > 0
		all.add(truth, found)
		withImplicit.add(truth, found || r.implicit > 0)
		if cats[r.category] == nil {
			cats[r.category] = &counts{}
		}
		cats[r.category].add(truth, found)
		if r.fdKnown {
			fd.add(truth, r.fdForward > 0)
		}
		if truth && !found {
			missed = append(missed, r.category+"/"+r.name)
		}
		if !truth && found {
			false_ = append(false_, r.category+"/"+r.name)
		}
		durs = append(durs, r.dur)
		cpus = append(cpus, r.cpu)
		total += r.dur
		totalCPU += r.cpu
	}
	p, rc, f := all.prf()
	fmt.Fprintf(&b, "# Flow analyzer accuracy on DroidBench 3.0\n\n")
	fmt.Fprintf(&b, "Generated by `scripts/accuracy.sh` (`go test ./analyzers/flow -run TestAccuracy -accuracy`). ")
	fmt.Fprintf(&b, "An app counts as leaking when romscan reports at least one `flow.exfiltration` or `flow.leak` finding; ")
	fmt.Fprintf(&b, "ground truth is the `leaks` column of `droidbench/ground-truth.tsv` (the two relay `component` apps are skipped).\n\n")
	fmt.Fprintf(&b, "## App level\n\n| | apps | TP | FP | FN | TN | precision | recall | F1 |\n|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| romscan flow | %d | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", all.tp+all.fp+all.fn+all.tn, all.tp, all.fp, all.fn, all.tn, p, rc, f)
	ip, ir, iff := withImplicit.prf()
	fmt.Fprintf(&b, "| romscan flow, `flow.implicit` counted too (not the headline) | %d | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n",
		withImplicit.tp+withImplicit.fp+withImplicit.fn+withImplicit.tn, withImplicit.tp, withImplicit.fp, withImplicit.fn, withImplicit.tn, ip, ir, iff)
	fp, fr, ff := fd.prf()
	fmt.Fprintf(&b, "| FlowDroid forward (suite, apps it covers) | %d | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n\n", fd.tp+fd.fp+fd.fn+fd.tn, fd.tp, fd.fp, fd.fn, fd.tn, fp, fr, ff)
	// Count-based: per app, min(found, expected) true leaks, the excess false.
	var ctp, cfp, cfn, ftp, ffp, ffn int
	for _, r := range rows {
		if r.leaks != "yes" && r.leaks != "no" {
			continue
		}
		tp := min(r.found, r.expected)
		ctp += tp
		cfp += r.found - tp
		cfn += r.expected - tp
		if r.fdKnown {
			t2 := min(r.fdForward, r.expected)
			ftp += t2
			ffp += r.fdForward - t2
			ffn += r.expected - t2
		}
	}
	cp, cr, cf := counts{tp: ctp, fp: cfp, fn: cfn}.prf()
	dp, dr, df := counts{tp: ftp, fp: ffp, fn: ffn}.prf()
	fmt.Fprintf(&b, "## Leak counts (comparable to `flowdroid_forward_result`)\n\nPer app, up to `expected_leaks` reported flows count as true, the rest as false. romscan reports one finding per (source site, sink site) pair, so counts are only roughly comparable.\n\n")
	fmt.Fprintf(&b, "| | TP | FP | FN | precision | recall | F1 |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| romscan flow | %d | %d | %d | %.3f | %.3f | %.3f |\n", ctp, cfp, cfn, cp, cr, cf)
	fmt.Fprintf(&b, "| FlowDroid forward | %d | %d | %d | %.3f | %.3f | %.3f |\n\n", ftp, ffp, ffn, dp, dr, df)
	fmt.Fprintf(&b, "## Per category\n\n| category | apps | TP | FP | FN | TN | precision | recall |\n|---|---|---|---|---|---|---|---|\n")
	names := make([]string, 0, len(cats))
	for k := range cats {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c := cats[k]
		p, r, _ := c.prf()
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %.2f | %.2f |\n", k, c.tp+c.fp+c.fn+c.tn, c.tp, c.fp, c.fn, c.tn, p, r)
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	sort.Slice(cpus, func(i, j int) bool { return cpus[i] < cpus[j] })
	fmt.Fprintf(&b, "\n## Time\n\nFlow analyzer only (APK opening included), one goroutine. CPU time (process, user + system; what the analysis costs whatever else runs): total %s for %d apps; median %s, max %s. Wall time: total %s; median %s, max %s.\n\n",
		totalCPU.Round(time.Millisecond), len(cpus), cpus[len(cpus)/2].Round(time.Microsecond), cpus[len(cpus)-1].Round(time.Microsecond),
		total.Round(time.Millisecond), durs[len(durs)/2].Round(time.Microsecond), durs[len(durs)-1].Round(time.Microsecond))
	fmt.Fprintf(&b, "## Missed leaking apps (%d)\n\n%s\n\n## False alarms (%d)\n\n%s\n\n", len(missed), list(missed), len(false_), list(false_))
	b.WriteString(accuracyNotes)
	fmt.Fprintf(&b, "## Per app\n\n| app | truth | expected | FlowDroid fwd | romscan flows | implicit | CPU time | wall time |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fd := ""
		if r.fdKnown {
			fd = strconv.Itoa(r.fdForward)
		}
		note := ""
		if r.err != nil {
			note = " (error: " + strings.ReplaceAll(r.err.Error(), "|", "/") + ")"
		}
		fmt.Fprintf(&b, "| %s/%s | %s | %d | %s | %d%s | %d | %s | %s |\n", r.category, r.name, r.leaks, r.expected, fd, r.found, note, r.implicit, r.cpu.Round(time.Microsecond), r.dur.Round(time.Microsecond))
	}
	return b.String()
}

// accuracyNotes explains the figures: what the analysis models, what it
// leaves out on purpose and why the remaining misses and false alarms are
// there. Keep it in step with the engine.
const accuracyNotes = `## Notes

**What counts.** An app leaks when the analyzer reports a ` + "`flow.exfiltration`" + ` (network, SMS) or ` + "`flow.leak`" + ` (log, file, ICC, exec, native) finding: a data flow. Implicit flows (a comparison or branch on the secret decides what is written, or whether an exception handler runs) are reported apart as ` + "`flow.implicit`" + `, low confidence and one severity lower, only where no data flow reaches the same sink; they are **not** counted in the headline figure (second row: what counting them would give). They find leaks that steer code on the secret (ImplicitFlows, EmulatorDetection/IMEI1) but also flag code that only seems to (ImplicitFlow6 writes the same constant on both branches), and on real apps a check such as ` + "`if (imei == null)`" + ` is common and harmless. The floors of ` + "`TestAccuracyFloor`" + ` (a plain ` + "`go test`" + ` when the corpus is present) are the app-level precision and recall above minus 0.01.

**What the engine models beyond plain data flow** (all general, none keyed to an app): reflection resolved from folded strings (` + "`Class.forName`" + `, ` + "`getClass`" + `, ` + "`getMethod`" + `/` + "`getDeclaredMethod`" + ` with their parameter count, ` + "`Method.getName`" + `, ` + "`newInstance`" + `; StringBuilder/reverse/substring/replace/concat folds; classes and Methods kept in fields), so ` + "`Method.invoke`" + ` is a call edge to the app method or the catalogued source/sink it names; integer ranges (constants, ` + "`Random.nextInt(n)`" + `, constant-returning helpers) that decide branches and switches; the exact class a small factory returns; object arrays, lists and maps with constant indices or keys kept element by element; wrappers that write through (` + "`Formatter`" + `, writers and output streams); ` + "`String.getChars`" + `; ` + "`ProcessBuilder.command`" + `; Handler/Messenger messages and ordered-broadcast results as channels between an app's own components; lifecycle methods of component superclasses and framework callbacks such as ` + "`attachBaseContext`" + `.

**Accepted losses.** SelfModification (bytecode rewritten at run time), DynamicLoading (code loaded from a file or the network) and Native (the leak happens in a ` + "`.so`" + `; calls into native code are reported as a native sink only when tainted data is passed) cannot be followed soundly from the APK's DEX alone. ImplicitFlows and EmulatorDetection/IMEI1 leak only through branches: see ` + "`flow.implicit`" + ` above. Callbacks/Button5 passes data through a view's hint (framework object state); ICC IntentSource1 and InterAppCommunication/Collector treat data received from other apps as a source, which the catalogue does not (it would flag every app that logs an incoming intent).

**Remaining false alarms.** The heap is modelled per field, not per object, and field writes are never strong updates, so Aliasing (FlowSensitivity1, Merge1, StrongUpdate1) and FieldAndObjectSensitivity4 / ObjectSensitivity2 report a flow through another object's field; ListAccess1 needs the position of ` + "`List.add`" + `; Callbacks (MultiHandlers1, Ordering1, Unregister1) need the order of callbacks and listener registration; Exceptions3/7 need proof that an exception is never thrown; ComponentNotInManifest1 needs intent resolution (an implicit intent's extras reach every receiver that reads that key, and a tainted intent sent to another component is itself reported as an ICC leak). Unreachable code is not reported: methods reachable only from components the manifest does not declare are dropped, and branches decided by constants are not followed.

**Time.** Measured on a shared 2-core machine with other jobs running: wall-time outliers are load, CPU time is the cost of the analysis (it includes the garbage collector). The analysis of one app is also bounded by its step budget and a time budget on the analysing thread's CPU time (3 s; wall time at four times that is a backstop), so a loaded machine does not cut an analysis short and change its findings.
`

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return "- " + strings.Join(s, "\n- ")
}

package walk

import "strings"

// pairBlockOTA replaces each "X.transfer.list" + "X.new.dat[.br|.xz]" pair
// of a container's members by one member: the partition image they
// describe, at the new.dat's location. Unpaired members are kept as they are.
func pairBlockOTA(ms []Member, env *Env) []Member {
	lists := map[string]int{}
	for i, m := range ms {
		if strings.HasSuffix(m.Path, ".transfer.list") {
			lists[strings.TrimSuffix(m.Path, ".transfer.list")] = i
		}
	}
	if len(lists) == 0 {
		return ms
	}
	drop := map[int]bool{}
	out := make([]Member, 0, len(ms))
	for i, m := range ms {
		if drop[i] {
			continue
		}
		base, ok := newDatBase(m.Path)
		if !ok {
			out = append(out, m)
			continue
		}
		li, ok := lists[base]
		if !ok {
			out = append(out, m)
			continue
		}
		drop[li] = true
		out = append(out, blockOTAMember(ms[li], m, env))
	}
	// Drop transfer lists that were paired, wherever they stood.
	final := out[:0]
	for _, m := range out {
		if strings.HasSuffix(m.Path, ".transfer.list") {
			if _, paired := pairedList(m.Path, ms, lists, drop); paired {
				continue
			}
		}
		final = append(final, m)
	}
	return final
}

func pairedList(p string, ms []Member, lists map[string]int, drop map[int]bool) (int, bool) {
	i, ok := lists[strings.TrimSuffix(p, ".transfer.list")]
	return i, ok && drop[i]
}

func newDatBase(p string) (string, bool) {
	for _, suf := range []string{".new.dat.br", ".new.dat.xz", ".new.dat"} {
		if strings.HasSuffix(p, suf) {
			return strings.TrimSuffix(p, suf), true
		}
	}
	return "", false
}

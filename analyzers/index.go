package analyzers

import (
	"context"
	"fmt"
	"strings"

	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/signatures"
)

// maxSitesPerKey bounds how many call sites or string uses are kept per API
// or string, so one hot API in a huge app does not grow the index without end.
const maxSitesPerKey = 64

// Site is a place in code: a method and the instruction in it.
type Site struct {
	Class  string // "Lcom/foo/Bar;"
	Method string // "name(desc)ret"
	PC     int    // in 16-bit code units
	Offset int64  // file offset of the instruction
}

// APIUse is a catalogue entry met in code, with its sites.
type APIUse struct {
	Entry  *signatures.APIEntry
	Target string // the called method or read field, in full
	Sites  []Site
}

// CodeIndex is what one pass over a DEX's code found: calls to catalogued
// APIs, reads of catalogued fields, and the methods using each string.
type CodeIndex struct {
	APIs        map[string]*APIUse // by target
	StringUses  map[uint32][]Site  // string index → const-string sites
	MethodsSeen int
	ClassesSeen int
}

// buildIndex makes one linear pass over every method's instructions.
func buildIndex(ctx context.Context, d *Dex, sigs *signatures.Set) (*CodeIndex, error) {
	f := d.File
	ix := &CodeIndex{APIs: map[string]*APIUse{}, StringUses: map[uint32][]Site{}}
	// Resolve catalogue hits per method/field index once, not per call
	// site: a state per index (most are misses), the hits in a map.
	methods := refCache{state: make([]uint8, f.NumMethods()), hits: map[uint32]refHit{}}
	fields := refCache{state: make([]uint8, f.NumFields()), hits: map[uint32]refHit{}}
	methodClasses, fieldClasses := catalogClasses(sigs.APIs)
	// Whether the catalogue may name a method (field) of each class, by
	// type index: decided once per class, not per reference.
	methodTypes, fieldTypes := make([]uint8, f.NumTypes()), make([]uint8, f.NumTypes())
	mayMatchType := func(state []uint8, t uint32, classes map[string]bool) bool {
		if t >= uint32(len(state)) {
			return false
		}
		if state[t] == refUnknown {
			state[t] = refMiss
			if class, err := f.Type(t); err == nil && mayMatch(class, classes) {
				state[t] = refIsHit
			}
		}
		return state[t] == refIsHit
	}
	var firstErr error
	for ci := 0; ci < f.NumClasses(); ci++ {
		if ci%64 == 0 {
			if err := ctx.Err(); err != nil {
				return ix, err
			}
		}
		cls, err := d.Class(ci)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("class %d: %w", ci, err)
			}
			continue
		}
		ix.ClassesSeen++
		for mi := range cls.Methods {
			m := &cls.Methods[mi]
			insns, insnsOff, err := f.Insns(m)
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("code of %s->%s: %w", cls.Name, m.Ref.Name, err)
				}
				continue
			}
			if insns == nil {
				continue
			}
			ix.MethodsSeen++
			mname := ""
			site := func(pc int) Site {
				if mname == "" {
					mname = m.Ref.Name + m.Ref.Descriptor
				}
				return Site{Class: cls.Name, Method: mname, PC: pc, Offset: insnsOff + int64(pc)*2}
			}
			// A decoding error ends the method's walk; what was found
			// before it is kept.
			_ = dex.EachRef(insns, func(pc int, ref dex.Ref) {
				index := ref.Index
				switch ref.Kind {
				case dex.IndexString:
					uses := ix.StringUses[index]
					if len(uses) < maxSitesPerKey {
						ix.StringUses[index] = append(uses, site(pc))
					}
				case dex.IndexMethod:
					if !ref.Op.IsInvoke() {
						return
					}
					h, state := methods.get(index)
					if state == refUnknown {
						var e *signatures.APIEntry
						var target string
						// Most targets are of classes the catalogue does not
						// name: read only the class of those.
						t, err := f.MethodClassType(index)
						if err == nil && mayMatchType(methodTypes, t, methodClasses) {
							if mref, err := f.Method(index); err == nil {
								if e = sigs.APIs.MethodParts(mref.Class, mref.Name); e != nil {
									target = mref.String()
								}
							}
						}
						h, state = methods.set(index, e, target)
					}
					if state == refIsHit {
						ix.add(h.entry, h.target, site(pc))
					}
				case dex.IndexField:
					h, state := fields.get(index)
					if state == refUnknown {
						var e *signatures.APIEntry
						var target string
						t, err := f.FieldClassType(index)
						if err == nil && mayMatchType(fieldTypes, t, fieldClasses) {
							if fref, err := f.Field(index); err == nil {
								if e = sigs.APIs.Field(fref.Class + "->" + fref.Name); e != nil {
									target = fref.String()
								}
							}
						}
						h, state = fields.set(index, e, target)
					}
					if state == refIsHit {
						ix.add(h.entry, h.target, site(pc))
					}
				}
			})
		}
	}
	return ix, firstErr
}

// catalogClasses lists the classes the catalogue names methods and fields
// of: the part of each "Lclass;->name" entry before its "->".
func catalogClasses(apis *signatures.APIs) (methods, fields map[string]bool) {
	methods, fields = map[string]bool{}, map[string]bool{}
	for _, e := range apis.Entries {
		for _, m := range e.Methods {
			class, _, _ := strings.Cut(m, "->")
			methods[class] = true
		}
		for _, fl := range e.Fields {
			class, _, _ := strings.Cut(fl, "->")
			fields[class] = true
		}
	}
	return methods, fields
}

// mayMatch says whether a reference of class can be a catalogue entry. The
// catalogue looks "class->name" up whole (up to a ':' for fields), so a
// class holding "->" or ':' could match through another split: let those
// through.
func mayMatch(class string, classes map[string]bool) bool {
	return classes[class] || strings.Contains(class, "->") || strings.IndexByte(class, ':') >= 0
}

// refCache remembers, per method or field index of one DEX, whether it is a
// catalogue entry, and for a hit the entry and the reference's full name.
type refCache struct {
	state []uint8 // refUnknown, refMiss or refIsHit
	hits  map[uint32]refHit
}

type refHit struct {
	entry  *signatures.APIEntry
	target string
}

const (
	refUnknown = iota
	refMiss
	refIsHit
)

// get returns what is known of index i: refUnknown, refMiss (also for an
// index out of range), or refIsHit with the hit.
func (c *refCache) get(i uint32) (refHit, uint8) {
	if i >= uint32(len(c.state)) {
		return refHit{}, refMiss
	}
	if c.state[i] == refIsHit {
		return c.hits[i], refIsHit
	}
	return refHit{}, c.state[i]
}

// set records index i's catalogue entry (nil: none) and full name.
func (c *refCache) set(i uint32, e *signatures.APIEntry, target string) (refHit, uint8) {
	if e == nil {
		c.state[i] = refMiss
		return refHit{}, refMiss
	}
	h := refHit{entry: e, target: target}
	c.state[i], c.hits[i] = refIsHit, h
	return h, refIsHit
}

func (ix *CodeIndex) add(e *signatures.APIEntry, target string, s Site) {
	u := ix.APIs[target]
	if u == nil {
		u = &APIUse{Entry: e, Target: target}
		ix.APIs[target] = u
	}
	if len(u.Sites) < maxSitesPerKey {
		u.Sites = append(u.Sites, s)
	}
}

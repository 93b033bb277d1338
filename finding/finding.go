// Package finding is the model of what romscan reports: a rule hit with a
// severity, a separate confidence, and the evidence that locates it.
package finding

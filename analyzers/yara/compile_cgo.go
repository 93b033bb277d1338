package yara

/*
#cgo LDFLAGS: -lyara
#include <stdlib.h>
#include <string.h>
#include <yara.h>

// The first compile error and how many there were.
typedef struct {
	int errors;
	int line;
	char message[1024];
} romscan_yara_diag;

static void romscan_yara_diag_cb(int level, const char* file, int line,
		const YR_RULE* rule, const char* message, void* user_data) {
	romscan_yara_diag* d = (romscan_yara_diag*)user_data;
	if (level != YARA_ERROR_LEVEL_ERROR) {
		return;
	}
	if (d->errors++ == 0) {
		d->line = line;
		strncpy(d->message, message ? message : "", sizeof(d->message) - 1);
		d->message[sizeof(d->message) - 1] = 0;
	}
}

// A growable buffer the saved rules are written to.
typedef struct {
	unsigned char* data;
	size_t len, cap;
	int failed;
} romscan_yara_buf;

static size_t romscan_yara_write(const void* ptr, size_t size, size_t count, void* user_data) {
	romscan_yara_buf* b = (romscan_yara_buf*)user_data;
	if (size == 0 || count == 0) {
		return count;
	}
	if (count > (((size_t)1) << 40) / size) {
		b->failed = 1;
		return 0;
	}
	size_t n = size * count;
	if (b->len + n > b->cap) {
		size_t c = b->cap ? 2 * b->cap : 65536;
		while (c < b->len + n) {
			c *= 2;
		}
		unsigned char* p = realloc(b->data, c);
		if (p == NULL) {
			b->failed = 1;
			return 0;
		}
		b->data = p;
		b->cap = c;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	return count;
}

// romscan_yara_compile compiles n sources, each in its namespace, with
// includes disabled, and saves the linked rules into out. It returns 0, or
// i+1 when source i has errors (diag holds the first), or -1 with the YARA
// error code in *code.
static int romscan_yara_compile(char** srcs, char** namespaces, int n,
		romscan_yara_diag* diag, romscan_yara_buf* out, int* code) {
	YR_COMPILER* c = NULL;
	YR_RULES* rules = NULL;
	int rc = yr_compiler_create(&c);
	if (rc != ERROR_SUCCESS) {
		*code = rc;
		return -1;
	}
	yr_compiler_set_callback(c, romscan_yara_diag_cb, diag);
	yr_compiler_set_include_callback(c, NULL, NULL, NULL);
	for (int i = 0; i < n; i++) {
		if (yr_compiler_add_string(c, srcs[i], namespaces[i]) > 0) {
			yr_compiler_destroy(c);
			return i + 1;
		}
	}
	rc = yr_compiler_get_rules(c, &rules);
	yr_compiler_destroy(c);
	if (rc != ERROR_SUCCESS) {
		*code = rc;
		return -1;
	}
	YR_STREAM stream = {0};
	stream.user_data = out;
	stream.write = romscan_yara_write;
	rc = yr_rules_save_stream(rules, &stream);
	yr_rules_destroy(rules);
	if (rc != ERROR_SUCCESS || out->failed) {
		*code = rc != ERROR_SUCCESS ? rc : ERROR_INSUFFICIENT_MEMORY;
		return -1;
	}
	return 0;
}
*/
import "C"

import (
	"bytes"
	"fmt"
	"unsafe"

	goyara "github.com/hillu/go-yara/v4"
)

// compileError is a compile error in one source: its line and YARA's text.
type compileError struct {
	source int
	line   int
	text   string
}

func (e *compileError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.text) }

// compileSources compiles sources (each in namespace "ns<i>") with libyara
// directly and loads the result through go-yara. go-yara 4.2's Compiler
// hands libyara the address of a handle that nothing on the Go side keeps
// alive during the compile, so a garbage collection in the middle of it
// can make the compiler's message callback read freed memory (a panic,
// "misuse of an invalid Handle", seen under load); here the callback data
// lives in C memory. Saving and loading the rules also sizes their arena
// to fit: rules fresh from the compiler keep its buffers, sized for growth
// (about 12 MiB for the embedded rules, whose saved form is 31 KiB).
func compileSources(sources []string) (*goyara.Rules, error) {
	n := len(sources)
	ptrSize := C.size_t(unsafe.Sizeof((*C.char)(nil)))
	srcp := (**C.char)(C.calloc(C.size_t(max(n, 1)), ptrSize))
	namep := (**C.char)(C.calloc(C.size_t(max(n, 1)), ptrSize))
	srcs, names := unsafe.Slice(srcp, n), unsafe.Slice(namep, n)
	defer func() {
		for i := range n {
			C.free(unsafe.Pointer(srcs[i]))
			C.free(unsafe.Pointer(names[i]))
		}
		C.free(unsafe.Pointer(srcp))
		C.free(unsafe.Pointer(namep))
	}()
	for i, s := range sources {
		srcs[i] = C.CString(s)
		names[i] = C.CString(fmt.Sprintf("ns%d", i))
	}
	diag := (*C.romscan_yara_diag)(C.calloc(1, C.size_t(unsafe.Sizeof(C.romscan_yara_diag{}))))
	out := (*C.romscan_yara_buf)(C.calloc(1, C.size_t(unsafe.Sizeof(C.romscan_yara_buf{}))))
	code := (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0)))))
	defer func() {
		C.free(unsafe.Pointer(out.data))
		C.free(unsafe.Pointer(out))
		C.free(unsafe.Pointer(diag))
		C.free(unsafe.Pointer(code))
	}()
	switch rc := int(C.romscan_yara_compile(srcp, namep, C.int(n), diag, out, code)); {
	case rc > 0:
		return nil, &compileError{source: rc - 1, line: int(diag.line), text: C.GoString(&diag.message[0])}
	case rc < 0:
		return nil, fmt.Errorf("yara: compile: libyara error %d", int(*code))
	}
	if out.len > 1<<30 {
		return nil, fmt.Errorf("yara: compile: %d bytes of compiled rules", uint64(out.len))
	}
	saved := C.GoBytes(unsafe.Pointer(out.data), C.int(out.len))
	rules, err := goyara.ReadRules(bytes.NewReader(saved))
	if err != nil {
		return nil, fmt.Errorf("yara: load compiled rules: %w", err)
	}
	return rules, nil
}

package cache

import "strings"

// Names. A key's segment becomes a directory entry name only when it is a
// valid path component: not empty, not "." or "..", no NUL, at most 255
// bytes (NAME_MAX). Other keys are skipped with a debug line: they cannot
// be reached through a filesystem, and showing them wrongly is worse.
//
// A key that is also a prefix ("a" and "a/x"): the directory keeps the
// name "a", since everything below it is reachable only that way. The
// object is shown beside it as "a~object" unless its size is 0 (then it
// is a directory marker and adds nothing), and unless a real key of that
// name exists (the real key wins). Lookup("a~object") finds it.

// AliasSuffix is appended to the name of an object that is shadowed by a
// directory of the same name.
const AliasSuffix = "~object"

// maxNameLen is NAME_MAX on Linux.
const maxNameLen = 255

// validName reports whether s can be a path component.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= maxNameLen &&
		!strings.ContainsAny(s, "/\x00")
}

// aliasBase returns the object name behind an alias name, if name is one.
func aliasBase(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, AliasSuffix)
	return base, ok && base != ""
}

// parentOf returns the prefix that contains prefix: "a/b/" for "a/b/c/",
// "" for "a/" and for "".
func parentOf(prefix string) string {
	if prefix == "" {
		return ""
	}
	i := strings.LastIndexByte(prefix[:len(prefix)-1], '/')
	return prefix[:i+1]
}

// baseOf returns the last segment of a prefix: "c" for "a/b/c/".
func baseOf(prefix string) string {
	p := parentOf(prefix)
	return strings.TrimSuffix(prefix[len(p):], "/")
}

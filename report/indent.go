package report

// appendIndent appends src, JSON as encoding/json marshals it (compact,
// valid), indented exactly as json.Indent(dst, src, prefix, indent)
// would: each element on a line of its own starting with prefix and one
// indent per level, ": " after keys, empty objects and arrays kept as {}
// and []. json.Indent runs its full scanner, one call per byte, to cope
// with any input; on a capture of short connections it took a quarter of
// the time of the whole run. FuzzAppendIndent holds the two to the same
// output.
func appendIndent(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	open := false // after { or [: the line break waits for the next token
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if open && c != '}' && c != ']' {
			open = false
			depth++
			dst = appendNewline(dst, prefix, indent, depth)
		}
		switch c {
		case '"':
			// Copy the string whole, escapes included.
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			dst = append(dst, src[i:j]...)
			i = j - 1
		case '{', '[':
			open = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, prefix, indent, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				dst = appendNewline(dst, prefix, indent, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}

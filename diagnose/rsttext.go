package diagnose

import (
	"fmt"
	"slices"
	"strings"
)

// rstText adds to a verdict that rests on the connection's RST the text
// the RST carried: its sender's own word on why it reset (RFC 1122 lets a
// RST carry it; F5 BIG-IP load balancers write their reason, with the
// "BIG-IP:" prefix, when tm.rstcause.pkt is on).
func (d *diagnosis) rstText(v *Verdict) {
	t := &d.c.TCP
	if t.RSTText == "" || !slices.Contains(v.Evidence, t.RST.Number) {
		return
	}
	who := "its sender's reason"
	if strings.HasPrefix(t.RSTText, "BIG-IP:") {
		who = "the reason of the F5 BIG-IP that sent it"
	}
	v.Summary += fmt.Sprintf("; the RST (frame %d) carries %s: %q", t.RST.Number, who, t.RSTText)
}

package analysis

import (
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestKeyLogRevealsRejection reads gnutls-cli rejecting an expired
// certificate over TLS 1.3: without the key log the certificate and the
// client's alert are encrypted; with it the chain and the alert's
// description are on the record.
func TestKeyLogRevealsRejection(t *testing.T) {
	const pcap = "../testdata/captures/cert_rejected.pcap"
	plain := analyse(t, pcap, Options{})
	if len(plain) != 1 || len(plain[0].Certificates) != 0 || plain[0].Decrypted {
		t.Fatalf("without key log: %d connections, certificates %d, decrypted %v; want 1, 0, false", len(plain), len(plain[0].Certificates), plain[0].Decrypted)
	}
	conns := analyse(t, pcap, Options{KeyLog: readKeyLog(t, "../testdata/captures/cert_rejected.keylog")})
	if len(conns) != 1 {
		t.Fatalf("got %d connections, want 1", len(conns))
	}
	c := conns[0]
	if !c.Decrypted || len(c.Certificates) == 0 || c.Certificates[0].X509 == nil {
		t.Fatalf("decrypted %v, %d certificates: want the server's chain", c.Decrypted, len(c.Certificates))
	}
	leaf := c.Certificates[0].X509
	if !leaf.NotAfter.Before(c.ServerHelloFrame.Time) || leaf.Subject.CommonName != "good.test" {
		t.Errorf("leaf %q expires %v: want the expired good.test certificate (capture time %v)", leaf.Subject, leaf.NotAfter, c.ServerHelloFrame.Time)
	}
	if c.CertificateFrame.Number == 0 {
		t.Errorf("no frame for the decrypted Certificate")
	}
	var clientAlert *Alert
	for i := range c.Alerts {
		if c.Alerts[i].Sender == capture.ClientToServer {
			clientAlert = &c.Alerts[i]
		}
	}
	if clientAlert == nil || !clientAlert.Decrypted || clientAlert.Level != tlsparse.AlertLevelFatal || clientAlert.Description == tlsparse.AlertCloseNotify {
		t.Fatalf("client alert %+v: want a decrypted fatal alert", clientAlert)
	}
	t.Logf("client alert: %s at frame %d", clientAlert.Description, clientAlert.Frame.Number)
	if c.Established {
		t.Errorf("established = true for a rejected handshake")
	}
}

// TestKeyLogSuccess reads curl's TLS 1.3 request with its key log: the
// encrypted extensions give the ALPN, both Finished messages are seen and
// application data is counted, not mistaken for handshake.
func TestKeyLogSuccess(t *testing.T) {
	conns := analyse(t, "../testdata/captures/ok.pcap", Options{KeyLog: readKeyLog(t, "../testdata/captures/ok.keylog")})
	var tls13 *Connection
	for _, c := range conns {
		if c.Version == tlsparse.VersionTLS13 {
			tls13 = c
		}
	}
	if tls13 == nil {
		t.Fatal("no TLS 1.3 connection in ok.pcap")
	}
	c := tls13
	if !c.Decrypted || !c.Established || len(c.Certificates) == 0 {
		t.Fatalf("decrypted %v established %v certificates %d; want true, true, >0", c.Decrypted, c.Established, len(c.Certificates))
	}
	if c.ClientSide.Finished.Number == 0 || c.ServerSide.Finished.Number == 0 || c.ClientSide.AppData.Records == 0 || c.ServerSide.AppData.Records == 0 {
		t.Errorf("finished %d/%d, app data records %d/%d: want all non-zero", c.ClientSide.Finished.Number, c.ServerSide.Finished.Number, c.ClientSide.AppData.Records, c.ServerSide.AppData.Records)
	}
	for _, a := range c.Alerts {
		if a.Description != tlsparse.AlertCloseNotify {
			t.Errorf("alert %s in a successful connection", a.Description)
		}
	}
}

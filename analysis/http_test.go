package analysis

import "testing"

func TestParseHTTPResponse(t *testing.T) {
	nginx400 := "HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nDate: Thu, 03 Dec 2026 11:44:07 GMT\r\nContent-Type: text/html\r\nContent-Length: 246\r\nConnection: close\r\n\r\n" +
		"<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n"
	tests := []struct {
		name, in string
		want     *HTTPResponse
	}{
		{"nginx 400", nginx400, &HTTPResponse{Status: 400, Reason: "Bad Request", Server: "nginx/1.22.1", Connection: "close", Title: "400 No required SSL certificate was sent"}},
		// Node.js 20's https server (testdata/field/nodepy): no Server header.
		{"node", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Mon, 07 Dec 2026 11:55:05 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\n\r\nok\n",
			&HTTPResponse{Status: 200, Reason: "OK", KeepAlive: "timeout=5", Connection: "keep-alive", Body: "ok"}},
		{"express", "HTTP/1.1 404 Not Found\r\nX-Powered-By: Express\r\nx-powered-by: second\r\n\r\n", &HTTPResponse{Status: 404, Reason: "Not Found", PoweredBy: "Express"}},
		{"no server header", "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n", &HTTPResponse{Status: 400, Reason: "Bad Request"}},
		{"head cut short", "HTTP/1.1 200 OK\r\nServer: Apache", &HTTPResponse{Status: 200, Reason: "OK", Server: "Apache"}},
		{"control bytes", "HTTP/1.1 403 \x1b[2JForbidden\r\nServer: x\x00y\r\n\r\n", &HTTPResponse{Status: 403, Reason: ".[2JForbidden", Server: "x.y"}},
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", nil},
		{"bad status", "HTTP/1.1 abc OK\r\n\r\n", nil},
		{"no status", "HTTP/1.1\r\n\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseHTTPResponse([]byte(tt.in))
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got == nil {
				return
			}
			if got.Status != tt.want.Status || got.Reason != tt.want.Reason || got.Server != tt.want.Server || got.Title != tt.want.Title ||
				got.KeepAlive != tt.want.KeepAlive || got.Connection != tt.want.Connection || got.PoweredBy != tt.want.PoweredBy {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if len(got.Body) > httpFieldMax || len(got.Reason) > httpFieldMax {
				t.Errorf("fields longer than %d: %+v", httpFieldMax, got)
			}
		})
	}
}

package sandboxapi

import (
	"net/netip"
	"strings"
	"testing"
)

// TestCallbackRules checks where callbacks may go, as the API's callers
// choose them (callbackAllowed, at creation) and as names resolve
// (CheckDial, at every connection), on loopback and off it.
func TestCallbackRules(t *testing.T) {
	local := &Server{cfg: Config{ListenPort: 8089, Webhooks: map[string]string{"sumsub": "http://127.0.0.1:6380/hook"}}}
	localNamed := &Server{cfg: Config{AllowCallback: []string{"localhost:6379", "127.0.0.1"}}}
	exposed := &Server{cfg: Config{Exposed: true, ListenPort: 8089,
		AllowCallback: []string{"*.hooks.test", "10.1.2.3", "receiver"},
		Webhooks:      map[string]string{"sumsub": "http://metadata.hooks.test/hook"}}}
	exposedBare := &Server{cfg: Config{Exposed: true}}
	for _, tc := range []struct {
		name string
		s    *Server
		url  string
		want string // "" allowed; else a part of the refusal
	}{
		{"local: a receiver on a high port", local, "http://127.0.0.1:38001/cb", ""},
		{"local: localhost on a high port", local, "http://localhost:3000/cb", ""},
		{"local: IPv6 loopback", local, "http://[::1]:9000/cb", ""},
		{"local: ssh", local, "http://127.0.0.1:22/", "port 22"},
		{"local: redis by name", local, "http://localhost:6379/", "port 6379"},
		{"local: postgres on IPv6", local, "http://[::1]:5432/", "port 5432"},
		{"local: the sandbox's own control API", local, "http://127.0.0.1:8089/_sandbox/deliveries", "port 8089"},
		{"local: port 80", local, "http://127.0.0.1/", "port 80"},
		{"local: the --webhook's own port", local, "http://127.0.0.1:6380/other", ""},
		{"local: a public host", local, "https://example.com/cb", "not allowed"},
		{"local: a private address", local, "http://10.0.0.1/cb", "not allowed"},
		{"local named: redis named host:port", localNamed, "http://localhost:6379/", ""},
		{"local named: 127.0.0.1 on a default port", localNamed, "http://127.0.0.1:38001/", ""},
		{"local named: 127.0.0.1 on postgres's port", localNamed, "http://127.0.0.1:5432/", "port 5432"},
		{"exposed: loopback not named", exposed, "http://127.0.0.1:38001/cb", "matches no --allow-callback"},
		{"exposed: a named private address", exposed, "http://10.1.2.3:8080/cb", ""},
		{"exposed: an unnamed private address", exposed, "http://10.1.2.4/cb", "matches no"},
		{"exposed: a wildcard host", exposed, "https://team-a.hooks.test/cb", ""},
		{"exposed: the metadata address", exposed, "http://169.254.169.254/latest/meta-data", "matches no"},
		{"exposed bare: loopback", exposedBare, "http://127.0.0.1:38001/cb", "listens off loopback"},
		{"not http", local, "javascript:alert(1)", "not an absolute http(s) URL"},
		{"no host", local, "http:///cb", "not an absolute http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.callbackAllowed(tc.url)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s refused: %v", tc.url, err)
			case tc.want != "" && err == nil:
				t.Errorf("%s allowed, want a refusal saying %q", tc.url, tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("%s: %v, want it to say %q", tc.url, err, tc.want)
			}
		})
	}

	// At connection time: what a name resolves to.
	for _, tc := range []struct {
		name string
		s    *Server
		host string
		addr string
		ok   bool
	}{
		{"a wildcard name resolving to a public address", exposed, "team-a.hooks.test", "93.184.216.34:443", true},
		{"a wildcard name resolving to a private address", exposed, "db.hooks.test", "10.0.0.5:5432", false},
		{"a wildcard name resolving to the metadata address", exposed, "x.hooks.test", "169.254.169.254:80", false},
		{"a wildcard name resolving to loopback", exposed, "x.hooks.test", "127.0.0.1:8080", false},
		{"a wildcard name resolving to IPv6 link-local", exposed, "x.hooks.test", "[fe80::1]:80", false},
		{"a wildcard name resolving to carrier-grade NAT", exposed, "x.hooks.test", "100.100.100.200:80", false},
		{"an exactly named host resolving to a private address", exposed, "receiver", "172.28.0.20:9000", true},
		{"the --webhook host", exposed, "metadata.hooks.test", "169.254.169.254:80", true},
		{"local: localhost resolving to IPv6 loopback, redis port", local, "localhost", "[::1]:6379", false},
		{"local: localhost on a high port", local, "localhost", "[::1]:38001", true},
		{"local: a private address is not loopback's business", local, "hooks.lan", "10.0.0.1:80", true},
	} {
		t.Run("dial "+tc.name, func(t *testing.T) {
			err := tc.s.CheckDial(tc.host, netip.MustParseAddrPort(tc.addr))
			if (err == nil) != tc.ok {
				t.Errorf("CheckDial(%s, %s) = %v, want allowed %v", tc.host, tc.addr, err, tc.ok)
			}
		})
	}
}

func TestCheckPublicURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://sandbox:8089":                true,
		"https://kyc-sandbox.example.com/sb": true,
		"http://[2001:db8::1]:8089":          true,
		"notaurl":                            false,
		"javascript:alert(1)":                false,
		"ftp://sandbox/":                     false,
		"http://":                            false,
		"http://[::]:8089":                   false,
		"http://0.0.0.0:8089":                false,
		"http://user:pw@sandbox":             false,
		"http://sandbox/?a=b":                false,
		"http://sandbox/#x":                  false,
		"//sandbox:8089":                     false,
		"":                                   false,
	} {
		if err := CheckPublicURL(raw); (err == nil) != ok {
			t.Errorf("CheckPublicURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}

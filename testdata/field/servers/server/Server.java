// The Java server of the server captures (see ../README.md): the JDK's
// HttpsServer (JSSE) made to fail in one way, or a plain HttpServer.
//
//   java Server.java HOST PORT KEYSTORE.p12 [min13|max12|cipher|clientca=TRUST.p12|alpn|sni=NAME|plain]
import com.sun.net.httpserver.*;
import java.io.*;
import java.net.*;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.*;

public class Server {
    public static void main(String[] a) throws Exception {
        String mode = a.length > 3 ? a[3] : "";
        InetSocketAddress addr = new InetSocketAddress(a[0], Integer.parseInt(a[1]));
        HttpHandler h = x -> {
            byte[] b = "ok\n".getBytes();
            x.sendResponseHeaders(200, b.length);
            try (OutputStream o = x.getResponseBody()) { o.write(b); }
        };
        if (mode.equals("plain")) {
            HttpServer s = HttpServer.create(addr, 0);
            s.createContext("/", h);
            s.start();
            return;
        }
        char[] pw = "changeit".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(a[2])) { ks.load(in, pw); }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, pw);
        TrustManager[] tms = null;
        if (mode.startsWith("clientca=")) {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(mode.substring(9))) { ts.load(in, pw); }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ts);
            tms = tmf.getTrustManagers();
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tms, null);
        HttpsServer s = HttpsServer.create(addr, 0);
        s.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            public void configure(HttpsParameters p) {
                SSLParameters sp = ctx.getDefaultSSLParameters();
                if (mode.equals("min13")) sp.setProtocols(new String[] {"TLSv1.3"});
                if (mode.equals("max12")) sp.setProtocols(new String[] {"TLSv1.2"});
                if (mode.equals("cipher")) {
                    sp.setProtocols(new String[] {"TLSv1.2"});
                    sp.setCipherSuites(new String[] {"TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"});
                }
                if (mode.startsWith("clientca=")) sp.setNeedClientAuth(true);
                if (mode.equals("alpn")) sp.setApplicationProtocols(new String[] {"h2"});
                if (mode.startsWith("sni=")) sp.setSNIMatchers(List.of(SNIHostName.createSNIMatcher(mode.substring(4).replace(".", "\\."))));
                p.setSSLParameters(sp);
            }
        });
        s.createContext("/", h);
        s.start();
    }
}

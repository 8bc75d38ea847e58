/* imzala-http-session.h: the core's HTTP seam.
 *
 * Every HTTP exchange of the core (the portal client, the time-stamp
 * client, the OCSP, CRL and AIA fetches of the certificate status checks,
 * the doctor's portal check) goes through an ImzalaHttpSession. Its
 * implementation is libsoup 3, in a private shared module
 * (src/http/imzala-http-soup.c, installed as
 * <libdir>/imzala/imzala-http-soup.so) that the first session opens with
 * GModule. libsoup brings 14 shared libraries (Kerberos, nghttp2, libpsl,
 * brotli, SQLite, ...) whose loading and relocation cost every start of a
 * program linked with it; this way only a program that talks HTTP pays it,
 * and `imzala-cli sign` does not (issue 12).
 *
 * IMZALA_HTTP_MODULE_DIR names the folder of the module instead of the
 * installed one: the build tree's src/http, for the tests and `meson
 * devenv`.
 *
 * Use a session from the thread (main context) that made it.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-http-message.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_HTTP_SESSION (imzala_http_session_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaHttpSession, imzala_http_session, IMZALA, HTTP_SESSION, GObject)

/* @timeout: seconds for each read or write (0: none); @idle_timeout:
 * seconds a kept connection may stay unused; @max_conns_per_host: 0 keeps
 * libsoup's default. Fails with IMZALA_ERROR_NETWORK when the HTTP module
 * cannot be loaded. */
ImzalaHttpSession *imzala_http_session_new (const char  *user_agent,
                                            guint        timeout,
                                            guint        idle_timeout,
                                            guint        max_conns_per_host,
                                            GError     **error);

void          imzala_http_session_set_timeout (ImzalaHttpSession *self,
                                               guint              seconds);

/* Every TLS connection of the session verifies the server against
 * @extra_ca first (the whole chain and the host name), and against the
 * system trust store only when that fails; NULL: the system store alone.
 * A message's own extra CA (imzala_http_message_set_extra_ca()) is still
 * asked after both. The system store is parsed once per process, and not
 * at all while every server verifies to the session's CA: the portal
 * client gives its --portal-ca here (issue 12). */
void          imzala_http_session_set_extra_ca (ImzalaHttpSession *self,
                                                GTlsDatabase      *extra_ca);

/* Sends @message and gives the answer's body as a stream, once the status
 * and headers are in (read them from @message). The errors are GIO's and
 * GLib TLS's, as libsoup gives them; the caller words them for the user. */
void          imzala_http_session_send_async  (ImzalaHttpSession   *self,
                                               ImzalaHttpMessage   *message,
                                               int                  io_priority,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GInputStream *imzala_http_session_send_finish (ImzalaHttpSession   *self,
                                               GAsyncResult        *result,
                                               GError             **error);
/* The same, blocking: for a worker thread. */
GInputStream *imzala_http_session_send        (ImzalaHttpSession   *self,
                                               ImzalaHttpMessage   *message,
                                               GCancellable        *cancellable,
                                               GError             **error);

/* Loads the module on a thread of GLib's pool, unless it is loaded: the
 * window asks for it once the cards are listed, so that its first request
 * does not load libsoup and its libraries on the main thread. */
void          imzala_http_preload             (void);
/* The thread that loaded the module, or NULL before it is loaded. For
 * tests. */
GThread      *imzala_http_get_backend_thread  (void);

/* What the process's TLS connections accept, as a GnuTLS @priority: the
 * clients' IMZALA_HTTP_TLS_PRIORITY (TLS 1.2 and 1.3, as browsers since
 * 2020), or the portal's own. Unset, glib-networking 2.74 over Debian 12's
 * GnuTLS lets the other side in with TLS 1.0 or 1.1 (SHA-1 signatures,
 * AES-CBC with SHA-1). glib-networking takes a priority only from its
 * G_TLS_GNUTLS_PRIORITY variable, read when the process's first TLS
 * connection is made, so this sets it (whatever the environment says: no
 * variable weakens it) and must be called in main(), before any thread is
 * started.
 *
 * The clients' key exchange groups are GnuTLS's own (NORMAL's) with X25519
 * moved first, where browsers, OpenSSL and NSS put it. GnuTLS 3.7 puts
 * P-256 first, and a server that follows the client's order (as
 * glib-networking's, the portal's, does) agreed P-256: about 0.6 M
 * instructions more per handshake for the server than X25519 (callgrind
 * of the portal, issue 12), and more for the client. A P-256 key share is
 * still sent with X25519's, for a server without X25519. */
#define IMZALA_HTTP_TLS_PRIORITY "NORMAL:%COMPAT:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" \
  ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:+GROUP-X448" \
  ":+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:+GROUP-FFDHE6144:+GROUP-FFDHE8192"
void          imzala_http_init_tls_policy     (const char *priority);

/* "libsoup 3.2.2", loading the module if it is not loaded yet; NULL with
 * @error when it cannot be loaded. For `imzala-cli doctor`. */
char         *imzala_http_dup_backend_version (GError **error);

G_END_DECLS

#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "imzala-portal-limiter.h"
#include "imzala-portal-listener.h"
#include "imzala-portal-request-stream.h"

typedef enum
{
  CONNECTION_HANDSHAKE,
  CONNECTION_IN_SOUP,  /* libsoup has a request of it */
  CONNECTION_IDLE,     /* kept: waiting for the next request's first byte */
  CONNECTION_REFUSING,
  CONNECTION_CLOSING,  /* close_notify on its way */
} ConnectionState;

/* One accepted TCP connection, from accept to close. */
typedef struct
{
  ImzalaPortalListener *listener;
  ConnectionState       state;
  GSocketConnection    *tcp;
  GIOStream            *tls;
  /* What libsoup has of the connection: one request (see
   * imzala-portal-request-stream.h). */
  ImzalaPortalRequestStream *request;
  /* Bytes of the next request read already (by the idle wait, or by the
   * last request's stream when the client pipelines). */
  GBytes               *pending;
  GSource              *wait;     /* the idle wait for the next request */
  guint                 served;   /* requests handed to libsoup */
  /* The last request's answer leaves the connection open (HTTP/1.1, no
   * "Connection: close", a length-delimited answer, not aborted). */
  gboolean              keep;
  /* The address object handed to libsoup: soup_server_message_get_remote_address()
   * returns this very object, which finds the connection of a message. */
  GSocketAddress       *remote;
  char                 *key;
  /* From a reverse proxy named with --trusted-proxy: its requests say
   * whose they are (X-Forwarded-For), and it has no per-address cap. */
  gboolean              via_proxy;
  GCancellable         *cancellable;
  guint                 timeout_id;
  SoupServerMessage    *msg;      /* weak */
  /* Inside soup_server_accept_iostream(), which may serve the whole
   * request at once when it has already arrived. */
  gboolean              accepting;
  gboolean              handshaking;
  GBytes               *answer;   /* what refuse() writes */
  guint8               *drain;    /* what refuse() reads and drops */
  gsize                 drained;
} Connection;

struct _ImzalaPortalListener
{
  GObject          parent_instance;

  SoupServer      *soup;
  GTlsCertificate *certificate;
  GSocketService  *service;
  GHashTable      *connections;   /* Connection* set */
  GHashTable      *by_remote;     /* GSocketAddress* → Connection* */
  GHashTable      *per_key;       /* key → count */
  GPtrArray       *proxies;       /* GInetAddressMask*: trusted reverse proxies */
  guint            handshake_timeout;
  guint            idle_timeout;
  guint            max_per_address;
  guint            max_total;
  guint            handshakes;    /* running now */
  guint            closing;       /* close_notify writes running now */
  guint64          handshakes_done; /* for the log */
  gulong           started_id;
  gulong           finished_id;
  gulong           aborted_id;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalListener, imzala_portal_listener, G_TYPE_OBJECT)

static void msg_gone_cb (gpointer data, GObject *where_the_msg_was);

static void
connection_free (Connection *c)
{
  ImzalaPortalListener *self = c->listener;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_key, c->key));

  g_hash_table_remove (self->connections, c);
  if (c->remote != NULL && g_hash_table_lookup (self->by_remote, c->remote) == c)
    g_hash_table_remove (self->by_remote, c->remote);
  if (count <= 1)
    g_hash_table_remove (self->per_key, c->key);
  else
    g_hash_table_insert (self->per_key, g_strdup (c->key), GUINT_TO_POINTER (count - 1));
  if (c->msg != NULL)
    g_object_weak_unref (G_OBJECT (c->msg), msg_gone_cb, c);
  g_clear_handle_id (&c->timeout_id, g_source_remove);
  if (c->wait != NULL)
    {
      g_source_destroy (c->wait);
      g_clear_pointer (&c->wait, g_source_unref);
    }
  if (c->request != NULL)
    {
      /* libsoup may hold it a little longer; it can no longer reach the
       * connection through it. */
      imzala_portal_request_stream_detach (c->request);
      g_clear_object (&c->request);
    }
  g_clear_pointer (&c->pending, g_bytes_unref);
  if (c->state == CONNECTION_CLOSING)
    self->closing--;
  g_clear_object (&c->tls);
  g_clear_object (&c->tcp);
  g_clear_object (&c->remote);
  g_clear_object (&c->cancellable);
  g_clear_pointer (&c->answer, g_bytes_unref);
  g_free (c->drain);
  g_free (c->key);
  g_free (c);
  g_object_unref (self);
}

/* Ends the connection at once: both directions shut, so that whoever reads
 * or writes it (libsoup, a handshake, a write) sees it end and lets go,
 * and the descriptor is closed with the last stream. */
static void
connection_shut (Connection *c)
{
  GSocket *socket = g_socket_connection_get_socket (c->tcp);

  g_cancellable_cancel (c->cancellable);
  if (!g_socket_is_closed (socket))
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
}

static void
connection_close (Connection *c)
{
  connection_shut (c);
  g_io_stream_close (c->tls != NULL ? c->tls : G_IO_STREAM (c->tcp), NULL, NULL);
  connection_free (c);
}

static void request_done (Connection *c);

static void
msg_gone_cb (gpointer data, GObject *where_the_msg_was)
{
  Connection *c = data;

  /* libsoup is done with the request: it closed its stream (which leaves
   * the TLS connection open) and let the message go. Inside
   * soup_server_accept_iostream() the caller goes on from here itself. */
  c->msg = NULL;
  if (c->state == CONNECTION_IN_SOUP && !c->accepting)
    request_done (c);
}

static gboolean deadline_cb (gpointer data);

static void
closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connection *c = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  connection_shut (c);
  connection_free (c);
}

/* Ends the connection politely: TLS close_notify, then the socket is shut
 * and closed. glib-networking writes the alert in a thread of GTask's pool,
 * which a client that reads nothing could hold until the deadline, so only
 * a few run at once; past them (and at the deadline) the socket is just
 * shut, as connection_close() does. */
static void
connection_end (Connection *c)
{
  ImzalaPortalListener *self = c->listener;

  if (c->wait != NULL)
    {
      g_source_destroy (c->wait);
      g_clear_pointer (&c->wait, g_source_unref);
    }
  if (c->tls == NULL || self->closing >= IMZALA_PORTAL_MAX_CLOSING)
    {
      connection_close (c);
      return;
    }
  c->state = CONNECTION_CLOSING;
  self->closing++;
  g_clear_handle_id (&c->timeout_id, g_source_remove);
  c->timeout_id = g_timeout_add_seconds (self->handshake_timeout, deadline_cb, c);
  g_io_stream_close_async (c->tls, G_PRIORITY_DEFAULT, c->cancellable, closed_cb, c);
}

static gboolean
deadline_cb (gpointer data)
{
  Connection *c = data;

  c->timeout_id = 0;
  g_debug ("Closing a connection from %s: %s", c->key,
           c->state == CONNECTION_HANDSHAKE ? "the TLS handshake took too long"
           : c->state == CONNECTION_IDLE    ? "no next request"
           : c->state == CONNECTION_CLOSING ? "the close took too long"
                                            : "the request took too long");
  if (c->state == CONNECTION_HANDSHAKE || c->state == CONNECTION_REFUSING
      || c->state == CONNECTION_CLOSING)
    {
      /* The pending handshake, write or close fails and its callback
       * frees. */
      connection_shut (c);
      return G_SOURCE_REMOVE;
    }
  if (c->state == CONNECTION_IDLE)
    {
      connection_end (c);
      return G_SOURCE_REMOVE;
    }
  connection_shut (c);
  connection_free (c);
  return G_SOURCE_REMOVE;
}

static void hand_request (Connection *c);

static gboolean
next_request_cb (gpointer data)
{
  Connection *c = data;

  g_clear_pointer (&c->wait, g_source_unref);
  hand_request (c);
  return G_SOURCE_REMOVE;
}

static gboolean
readable_cb (GObject *stream, gpointer data)
{
  Connection *c = data;
  g_autoptr(GError) error = NULL;
  guint8 block[16384];
  gssize n;

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), block, sizeof block,
                                                NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&c->wait, g_source_unref);
  if (n <= 0)
    {
      /* The client closed its kept connection (or it broke): nothing is
       * left to say on it. */
      g_debug ("A kept connection from %s ended: %s", c->key,
               error != NULL ? error->message : "closed by the client");
      connection_close (c);
      return G_SOURCE_REMOVE;
    }
  c->pending = g_bytes_new (block, (gsize) n);
  hand_request (c);
  return G_SOURCE_REMOVE;
}

/* After a request libsoup is done with: the connection is kept for the
 * next one, or ended. */
static void
request_done (Connection *c)
{
  ImzalaPortalListener *self = c->listener;
  gboolean keep = c->keep;

  c->keep = FALSE;
  if (c->request != NULL)
    {
      /* Kept only when libsoup closed its stream (it did not steal the
       * connection) after reading exactly one request: the next byte then
       * starts the next request. */
      keep = keep && g_io_stream_is_closed (G_IO_STREAM (c->request))
             && imzala_portal_request_stream_is_complete (c->request);
      g_clear_pointer (&c->pending, g_bytes_unref);
      c->pending = imzala_portal_request_stream_steal_pending (c->request);
      imzala_portal_request_stream_detach (c->request);
      g_clear_object (&c->request);
    }
  else
    keep = FALSE;
  if (!keep || c->served >= IMZALA_PORTAL_MAX_REQUESTS || self->service == NULL)
    {
      connection_end (c);
      return;
    }

  c->state = CONNECTION_IDLE;
  g_clear_handle_id (&c->timeout_id, g_source_remove);
  c->timeout_id = g_timeout_add_seconds (MIN (self->idle_timeout, IMZALA_PORTAL_KEEPALIVE_TIMEOUT),
                                         deadline_cb, c);
  /* From the main loop, never from inside libsoup's own callbacks. */
  if (c->pending != NULL)
    {
      /* A client that pipelines: its next request is here already. */
      c->wait = g_idle_source_new ();
      g_source_set_callback (c->wait, next_request_cb, c, NULL);
    }
  else
    {
      c->wait = g_pollable_input_stream_create_source (
        G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (c->tls)), c->cancellable);
      g_source_set_callback (c->wait, G_SOURCE_FUNC (readable_cb), c, NULL);
    }
  g_source_attach (c->wait, NULL);
}

/* Hands the connection's next request to libsoup on a stream of its own. */
static void
hand_request (Connection *c)
{
  ImzalaPortalListener *self = c->listener;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (c->tcp, NULL);
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&c->timeout_id, g_source_remove);
  c->timeout_id = g_timeout_add_seconds (self->idle_timeout, deadline_cb, c);
  c->state = CONNECTION_IN_SOUP;
  c->keep = FALSE;
  c->request = imzala_portal_request_stream_new (c->tls, c->pending);
  g_clear_pointer (&c->pending, g_bytes_unref);
  c->served++;
  /* request-started runs inside this call and finds the connection. */
  c->accepting = TRUE;
  if (!soup_server_accept_iostream (self->soup, G_IO_STREAM (c->request), local, c->remote, &error))
    g_debug ("libsoup refused a connection from %s: %s", c->key, error->message);
  c->accepting = FALSE;
  /* Served already (or refused, or never started): libsoup is done. */
  if (c->state == CONNECTION_IN_SOUP && c->msg == NULL)
    request_done (c);
}

static void
request_started_cb (SoupServer        *soup,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  ImzalaPortalListener *self = user_data;
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  Connection *c = remote != NULL ? g_hash_table_lookup (self->by_remote, remote) : NULL;

  if (c == NULL || c->msg != NULL)
    return;
  c->msg = msg;
  if (c->via_proxy)
    g_object_set_data (G_OBJECT (msg), IMZALA_PORTAL_VIA_PROXY, GINT_TO_POINTER (TRUE));
  g_object_weak_ref (G_OBJECT (msg), msg_gone_cb, c);
}

/* The connection of @msg, when it is libsoup's now. */
static Connection *
connection_of (ImzalaPortalListener *self,
               SoupServerMessage    *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  Connection *c = remote != NULL ? g_hash_table_lookup (self->by_remote, remote) : NULL;

  if (c == NULL || c->state != CONNECTION_IN_SOUP || c->msg != msg || c->request == NULL)
    return NULL;
  return c;
}

static void
got_headers_cb (SoupServerMessage *msg,
                gpointer           user_data)
{
  Connection *c = connection_of (user_data, msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  gint64 length;

  /* Runs after libsoup's own handler (and so after the early handlers):
   * a refused request has been taken back already. */
  if (c == NULL)
    return;
  /* The last request the connection carries, or one that came as the
   * portal stops: its answer says "Connection: close", so that a client
   * that keeps connections (nginx's upstream keepalive, curl) sends no
   * more on it. A POST sent on a connection closed without a word is
   * lost: the client cannot know whether to send it again. */
  if (c->served >= IMZALA_PORTAL_MAX_REQUESTS || c->listener->service == NULL)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  /* The body libsoup reads next, as libsoup frames it: the request's
   * stream then passes on exactly that much and keeps the rest. */
  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      length = 0;
      break;
    case SOUP_ENCODING_CONTENT_LENGTH:
      length = soup_message_headers_get_content_length (headers);
      break;
    default:
      length = -1;
      break;
    }
  imzala_portal_request_stream_set_body_length (c->request, length);
}

static void
request_started_soup_cb (SoupServer        *soup,
                         SoupServerMessage *msg,
                         gpointer           user_data)
{
  ImzalaPortalListener *self = user_data;

  request_started_cb (soup, msg, user_data);
  if (connection_of (self, msg) != NULL)
    g_signal_connect_object (msg, "got-headers", G_CALLBACK (got_headers_cb), self, 0);
}

/* Whether the answer to @msg leaves its connection open, as HTTP/1.1
 * says (HTTP/1.0 connections are not kept). */
static gboolean
message_keeps_connection (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  guint status = soup_server_message_get_status (msg);

  if (soup_server_message_get_http_version (msg) != SOUP_HTTP_1_1)
    return FALSE;
  /* libsoup adds "Connection: close" to the request headers itself when
   * it could not parse them. */
  if (soup_message_headers_header_contains (request, "Connection", "close")
      || soup_message_headers_header_contains (response, "Connection", "close"))
    return FALSE;
  if (status < 200 || soup_message_headers_get_encoding (response) == SOUP_ENCODING_EOF)
    return FALSE;
  return TRUE;
}

static void
request_finished_cb (SoupServer        *soup,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  Connection *c = connection_of (user_data, msg);

  if (c != NULL)
    c->keep = message_keeps_connection (msg);
}

static void
request_aborted_cb (SoupServer        *soup,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  Connection *c = connection_of (user_data, msg);

  if (c != NULL)
    c->keep = FALSE;
}

static void
handshake_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connection *c = user_data;
  ImzalaPortalListener *self = c->listener;
  g_autoptr(GError) error = NULL;

  c->handshaking = FALSE;
  self->handshakes--;
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      g_debug ("TLS handshake with %s failed: %s", c->key, error->message);
      connection_close (c);
      return;
    }
  self->handshakes_done++;
  /* Tests count these lines (requests per handshake). */
  g_debug ("TLS handshake %" G_GUINT64_FORMAT " with %s done", self->handshakes_done, c->key);
  g_hash_table_insert (self->by_remote, c->remote, c);
  hand_request (c);
}

static gboolean
hello_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Connection *c = user_data;
  g_autoptr(GError) error = NULL;

  if (g_cancellable_is_cancelled (c->cancellable) || (condition & (G_IO_HUP | G_IO_ERR)) != 0)
    {
      /* The deadline, or the client gone before it said anything. */
      connection_close (c);
      return G_SOURCE_REMOVE;
    }
  if (c->listener->handshakes >= IMZALA_PORTAL_MAX_HANDSHAKES)
    {
      /* Each costs a thread and its TLS state: beyond this many at once,
       * a new one is closed rather than queued behind slow ones. */
      g_debug ("Refusing a handshake from %s: %u running", c->key, c->listener->handshakes);
      connection_close (c);
      return G_SOURCE_REMOVE;
    }
  /* No database: the portal asks for no client certificate, and with the
   * default one glib-networking 2.74 loads the system's CA store for every
   * connection (some 100 ms of CPU and 4 MB each), as libsoup's own
   * listener avoids the same way. */
  c->tls = g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()),
                           NULL, &error,
                           "base-io-stream", c->tcp,
                           "certificate", c->listener->certificate,
                           "database", NULL,
                           "authentication-mode", G_TLS_AUTHENTICATION_NONE,
                           "require-close-notify", FALSE,
                           NULL);
  if (c->tls == NULL)
    {
      g_debug ("No TLS for %s: %s", c->key, error->message);
      connection_close (c);
      return G_SOURCE_REMOVE;
    }
  c->handshaking = TRUE;
  c->listener->handshakes++;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (c->tls), G_PRIORITY_DEFAULT,
                                    c->cancellable, handshake_cb, c);
  return G_SOURCE_REMOVE;
}

/* Whether @address is in one of the --trusted-proxy networks (an
 * IPv4-mapped IPv6 address as the IPv4 one). */
static gboolean
is_trusted_proxy (ImzalaPortalListener *self,
                  GInetAddress         *address)
{
  g_autoptr(GInetAddress) plain = imzala_portal_limiter_unmap_address (address);

  for (guint i = 0; i < self->proxies->len; i++)
    {
      if (g_inet_address_mask_matches (g_ptr_array_index (self->proxies, i), plain))
        return TRUE;
    }
  return FALSE;
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *tcp,
             GObject           *source_object,
             gpointer           user_data)
{
  ImzalaPortalListener *self = user_data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (tcp, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  GInetAddress *peer;
  gboolean via_proxy;
  GSource *source;
  Connection *c;
  guint count;

  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    {
      g_io_stream_close (G_IO_STREAM (tcp), NULL, NULL);
      return TRUE;
    }
  peer = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  key = imzala_portal_limiter_key_for_address (peer);
  via_proxy = is_trusted_proxy (self, peer);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_key, key));
  /* A trusted proxy carries every client's connections: only the total
   * bounds it (nginx has limits of its own per client). */
  if ((!via_proxy && count >= self->max_per_address)
      || g_hash_table_size (self->connections) >= self->max_total)
    {
      /* Closed before TLS: a client over its share learns nothing and
       * costs one accept(). */
      g_debug ("Refusing a connection from %s: %u open", key, count);
      g_io_stream_close (G_IO_STREAM (tcp), NULL, NULL);
      return TRUE;
    }

  /* As libsoup's own listener does: the answer's pieces (TLS records of
   * the headers, then the body) are not held back for the client's
   * delayed ACK, some 40 ms a request. */
  g_socket_set_option (g_socket_connection_get_socket (tcp), IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);

  c = g_new0 (Connection, 1);
  c->listener = g_object_ref (self);
  c->state = CONNECTION_HANDSHAKE;
  c->tcp = g_object_ref (tcp);
  c->remote = g_steal_pointer (&remote);
  c->key = g_steal_pointer (&key);
  c->via_proxy = via_proxy;
  c->cancellable = g_cancellable_new ();
  g_hash_table_add (self->connections, c);
  g_hash_table_insert (self->per_key, g_strdup (c->key), GUINT_TO_POINTER (count + 1));

  c->timeout_id = g_timeout_add_seconds (self->handshake_timeout, deadline_cb, c);
  /* glib-networking's TLS connection costs about 4 MB from its creation
   * and makes its handshake in a thread of its own: a connection that has
   * not said ClientHello yet gets neither, so that a crowd of silent
   * connections costs a descriptor each and nothing else. */
  source = g_socket_create_source (g_socket_connection_get_socket (tcp), G_IO_IN | G_IO_HUP | G_IO_ERR,
                                   c->cancellable);
  g_source_set_callback (source, G_SOURCE_FUNC (hello_cb), c, NULL);
  g_source_attach (source, NULL);
  g_source_unref (source);
  return TRUE;
}

static void
imzala_portal_listener_dispose (GObject *object)
{
  ImzalaPortalListener *self = IMZALA_PORTAL_LISTENER (object);

  /* Every connection holds a reference, so none is left here. */
  imzala_portal_listener_stop (self);
  if (self->soup != NULL)
    {
      g_clear_signal_handler (&self->started_id, self->soup);
      g_clear_signal_handler (&self->finished_id, self->soup);
      g_clear_signal_handler (&self->aborted_id, self->soup);
    }
  g_clear_object (&self->soup);

  G_OBJECT_CLASS (imzala_portal_listener_parent_class)->dispose (object);
}

static void
imzala_portal_listener_finalize (GObject *object)
{
  ImzalaPortalListener *self = IMZALA_PORTAL_LISTENER (object);

  g_clear_object (&self->certificate);
  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_pointer (&self->by_remote, g_hash_table_unref);
  g_clear_pointer (&self->per_key, g_hash_table_unref);
  g_clear_pointer (&self->proxies, g_ptr_array_unref);

  G_OBJECT_CLASS (imzala_portal_listener_parent_class)->finalize (object);
}

static void
imzala_portal_listener_class_init (ImzalaPortalListenerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = imzala_portal_listener_dispose;
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_listener_finalize;
}

static void
imzala_portal_listener_init (ImzalaPortalListener *self)
{
  self->connections = g_hash_table_new (NULL, NULL);
  self->by_remote = g_hash_table_new (NULL, NULL);
  self->per_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->proxies = g_ptr_array_new_with_free_func (g_object_unref);
  self->handshake_timeout = IMZALA_PORTAL_HANDSHAKE_TIMEOUT;
  self->idle_timeout = IMZALA_PORTAL_IDLE_TIMEOUT;
  self->max_per_address = IMZALA_PORTAL_MAX_PER_ADDRESS;
  self->max_total = IMZALA_PORTAL_MAX_CONNECTIONS;
}

ImzalaPortalListener *
imzala_portal_listener_new (SoupServer *soup, GTlsCertificate *certificate)
{
  ImzalaPortalListener *self = g_object_new (IMZALA_TYPE_PORTAL_LISTENER, NULL);

  self->soup = g_object_ref (soup);
  self->certificate = g_object_ref (certificate);
  self->started_id = g_signal_connect (soup, "request-started",
                                       G_CALLBACK (request_started_soup_cb), self);
  self->finished_id = g_signal_connect (soup, "request-finished",
                                        G_CALLBACK (request_finished_cb), self);
  self->aborted_id = g_signal_connect (soup, "request-aborted",
                                       G_CALLBACK (request_aborted_cb), self);
  return self;
}

void
imzala_portal_listener_set_limits (ImzalaPortalListener *self,
                                   guint                 handshake_timeout,
                                   guint                 idle_timeout,
                                   guint                 max_per_address,
                                   guint                 max_total)
{
  g_return_if_fail (IMZALA_IS_PORTAL_LISTENER (self));
  g_return_if_fail (handshake_timeout > 0 && idle_timeout > 0);
  g_return_if_fail (max_per_address > 0 && max_total > 0);

  self->handshake_timeout = handshake_timeout;
  self->idle_timeout = idle_timeout;
  self->max_per_address = max_per_address;
  self->max_total = max_total;
}

void
imzala_portal_listener_add_trusted_proxy (ImzalaPortalListener *self,
                                          GInetAddressMask     *network)
{
  g_return_if_fail (IMZALA_IS_PORTAL_LISTENER (self));
  g_return_if_fail (G_IS_INET_ADDRESS_MASK (network));
  g_ptr_array_add (self->proxies, g_object_ref (network));
}

guint16
imzala_portal_listener_listen (ImzalaPortalListener *self,
                               GInetAddress         *address,
                               guint16               port,
                               GError              **error)
{
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) wanted = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  guint16 bound;

  g_return_val_if_fail (IMZALA_IS_PORTAL_LISTENER (self), 0);

  if (self->service == NULL)
    {
      self->service = g_socket_service_new ();
      g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
    }
  if (address == NULL)
    loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  wanted = g_inet_socket_address_new (address != NULL ? address : loopback, port);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), wanted,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &effective, error))
    return 0;
  bound = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  if (address == NULL)
    {
      g_autoptr(GInetAddress) loopback6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
      g_autoptr(GSocketAddress) wanted6 = g_inet_socket_address_new (loopback6, bound);
      g_autoptr(GError) error6 = NULL;

      /* "localhost" is ::1 as well where the machine has IPv6; a machine
       * without it serves 127.0.0.1 alone. */
      if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), wanted6,
                                          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                          NULL, &error6))
        g_debug ("Not listening on [::1]:%u: %s", bound, error6->message);
    }
  g_socket_service_start (self->service);
  return bound;
}

void
imzala_portal_listener_stop (ImzalaPortalListener *self)
{
  g_return_if_fail (IMZALA_IS_PORTAL_LISTENER (self));

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_clear_object (&self->service);
    }
  if (self->connections != NULL)
    {
      g_autoptr(GList) open = g_hash_table_get_keys (self->connections);

      /* A handshake, write or close still running ends when its socket
       * is shut, and its callback frees the connection; one in libsoup's
       * hands or waiting for its next request is let go here. */
      for (GList *l = open; l != NULL; l = l->next)
        {
          Connection *c = l->data;

          connection_shut (c);
          if (c->state == CONNECTION_IN_SOUP || c->state == CONNECTION_IDLE)
            connection_free (c);
        }
    }
}

static void
refuse_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connection *c = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  connection_free (c);
}

#define DRAIN_BLOCK 16384

static void
refuse_drained_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connection *c = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n > 0 && c->drained + (gsize) n <= IMZALA_PORTAL_LINGER_MAX)
    {
      c->drained += (gsize) n;
      g_input_stream_read_async (G_INPUT_STREAM (source), c->drain, DRAIN_BLOCK, G_PRIORITY_DEFAULT,
                                 c->cancellable, refuse_drained_cb, c);
      return;
    }
  /* The end, an error, the deadline or more than a client that reads its
   * answer after sending would send: closed, with what is left unread. */
  connection_shut (c);
  g_io_stream_close_async (c->tls, G_PRIORITY_DEFAULT, NULL, refuse_closed_cb, c);
}

static void
refuse_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connection *c = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    {
      connection_shut (c);
      g_io_stream_close_async (c->tls, G_PRIORITY_DEFAULT, NULL, refuse_closed_cb, c);
      return;
    }
  /* A client (libsoup's among them) may read the answer only after it has
   * sent its whole body; closing now would reset the connection under it
   * and lose the answer. So the rest of the body is read into one small
   * buffer and dropped, up to IMZALA_PORTAL_LINGER_MAX and the deadline,
   * as a web server's lingering close does. Memory stays flat. */
  c->drain = g_malloc (DRAIN_BLOCK);
  g_input_stream_read_async (g_io_stream_get_input_stream (c->tls), c->drain, DRAIN_BLOCK,
                             G_PRIORITY_DEFAULT, c->cancellable, refuse_drained_cb, c);
}

static void
append_header_cb (const char *name, const char *value, gpointer user_data)
{
  if (g_ascii_strcasecmp (name, "Content-Length") != 0 && g_ascii_strcasecmp (name, "Connection") != 0)
    g_string_append_printf (user_data, "%s: %s\r\n", name, value);
}

gboolean
imzala_portal_listener_refuse (ImzalaPortalListener *self,
                               SoupServerMessage    *msg)
{
  GSocketAddress *remote;
  Connection *c;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GIOStream) stolen = NULL;
  GString *answer;
  guint status;

  g_return_val_if_fail (IMZALA_IS_PORTAL_LISTENER (self), FALSE);

  remote = soup_server_message_get_remote_address (msg);
  c = remote != NULL ? g_hash_table_lookup (self->by_remote, remote) : NULL;
  if (c == NULL || c->state != CONNECTION_IN_SOUP || c->msg != msg)
    return FALSE;

  status = soup_server_message_get_status (msg);
  body = soup_message_body_flatten (soup_server_message_get_response_body (msg));
  answer = g_string_new (NULL);
  g_string_append_printf (answer, "HTTP/1.1 %u %s\r\n", status, soup_status_get_phrase (status));
  soup_message_headers_foreach (soup_server_message_get_response_headers (msg), append_header_cb,
                                answer);
  g_string_append_printf (answer, "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                          g_bytes_get_size (body));
  g_string_append_len (answer, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body));
  c->answer = g_string_free_to_bytes (answer);

  /* From here on the connection is ours again: libsoup forgets it (no
   * more reading) and its message may go. */
  c->state = CONNECTION_REFUSING;
  g_object_weak_unref (G_OBJECT (c->msg), msg_gone_cb, c);
  c->msg = NULL;
  g_hash_table_remove (self->by_remote, c->remote);
  stolen = soup_server_message_steal_connection (msg);
  if (c->request != NULL)
    {
      imzala_portal_request_stream_detach (c->request);
      g_clear_object (&c->request);
    }
  g_clear_pointer (&c->pending, g_bytes_unref);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (c->tls),
                                   g_bytes_get_data (c->answer, NULL),
                                   g_bytes_get_size (c->answer), G_PRIORITY_DEFAULT,
                                   c->cancellable, refuse_written_cb, c);
  return TRUE;
}

guint
imzala_portal_listener_get_n_connections (ImzalaPortalListener *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_LISTENER (self), 0);
  return g_hash_table_size (self->connections);
}

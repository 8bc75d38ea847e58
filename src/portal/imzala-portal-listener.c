#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "imzala-portal-limiter.h"
#include "imzala-portal-listener.h"

typedef enum
{
  CONNECTION_HANDSHAKE,
  CONNECTION_IN_SOUP,
  CONNECTION_REFUSING,
} ConnectionState;

/* One accepted TCP connection, from accept to close. */
typedef struct
{
  ImzalaPortalListener *listener;
  ConnectionState       state;
  GSocketConnection    *tcp;
  GIOStream            *tls;
  /* The address object handed to libsoup: soup_server_message_get_remote_address()
   * returns this very object, which finds the connection of a message. */
  GSocketAddress       *remote;
  char                 *key;
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
  guint            handshake_timeout;
  guint            idle_timeout;
  guint            max_per_address;
  guint            max_total;
  guint            handshakes;    /* running now */
  gulong           started_id;
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

static void
msg_gone_cb (gpointer data, GObject *where_the_msg_was)
{
  Connection *c = data;

  /* libsoup closed the connection after its one request (the server never
   * listens itself, so it keeps none alive). */
  c->msg = NULL;
  if (c->state == CONNECTION_IN_SOUP && !c->accepting)
    connection_close (c);
}

static gboolean
deadline_cb (gpointer data)
{
  Connection *c = data;

  c->timeout_id = 0;
  g_debug ("Closing a connection from %s: %s took too long", c->key,
           c->state == CONNECTION_HANDSHAKE ? "the TLS handshake" : "the request");
  if (c->state == CONNECTION_HANDSHAKE || c->state == CONNECTION_REFUSING)
    {
      /* The pending handshake or write fails and its callback frees. */
      connection_shut (c);
      return G_SOURCE_REMOVE;
    }
  connection_shut (c);
  connection_free (c);
  return G_SOURCE_REMOVE;
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
  g_object_weak_ref (G_OBJECT (msg), msg_gone_cb, c);
}

static void
handshake_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connection *c = user_data;
  ImzalaPortalListener *self = c->listener;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  c->handshaking = FALSE;
  self->handshakes--;
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      g_debug ("TLS handshake with %s failed: %s", c->key, error->message);
      connection_close (c);
      return;
    }
  g_clear_handle_id (&c->timeout_id, g_source_remove);
  local = g_socket_connection_get_local_address (c->tcp, NULL);
  c->state = CONNECTION_IN_SOUP;
  c->timeout_id = g_timeout_add_seconds (self->idle_timeout, deadline_cb, c);
  g_hash_table_insert (self->by_remote, c->remote, c);
  /* request-started runs inside this call and finds the connection. */
  c->accepting = TRUE;
  if (!soup_server_accept_iostream (self->soup, c->tls, local, c->remote, &error))
    g_debug ("libsoup refused a connection from %s: %s", c->key, error->message);
  c->accepting = FALSE;
  /* Served already (or refused, or never started): libsoup is done. */
  if (c->state == CONNECTION_IN_SOUP && c->msg == NULL)
    connection_close (c);
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
  GSource *source;
  Connection *c;
  guint count;

  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    {
      g_io_stream_close (G_IO_STREAM (tcp), NULL, NULL);
      return TRUE;
    }
  key = imzala_portal_limiter_key_for_address (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_key, key));
  if (count >= self->max_per_address || g_hash_table_size (self->connections) >= self->max_total)
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
    g_clear_signal_handler (&self->started_id, self->soup);
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
                                       G_CALLBACK (request_started_cb), self);
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

      /* A handshake or a write still running ends when its socket is shut,
       * and its callback frees the connection; one in libsoup's hands is
       * let go here. */
      for (GList *l = open; l != NULL; l = l->next)
        {
          Connection *c = l->data;

          connection_shut (c);
          if (c->state == CONNECTION_IN_SOUP)
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

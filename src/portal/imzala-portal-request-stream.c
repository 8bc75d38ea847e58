#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-portal-request-stream.h"

/* What the input side may pass on to libsoup next. */
typedef enum
{
  PHASE_HEADERS, /* up to and with the blank line that ends the headers */
  PHASE_LENGTH,  /* the headers are read; the body's length is not set yet */
  PHASE_BODY,    /* the body's bytes still to come (or all: unbounded) */
  PHASE_DONE,    /* the request is read; nothing more */
} Phase;

/* One TLS record's worth: what one read takes from the connection. */
#define READ_BLOCK 16384

/* ---- The input side: one request's bytes, no more ---- */

#define IMZALA_TYPE_PORTAL_REQUEST_INPUT (imzala_portal_request_input_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalRequestInput, imzala_portal_request_input, IMZALA,
                      PORTAL_REQUEST_INPUT, GInputStream)

struct _ImzalaPortalRequestInput
{
  GInputStream  parent_instance;

  GInputStream *base;
  GByteArray   *pending;   /* read from @base, not passed on yet */
  Phase         phase;
  /* The end of the headers is the first "\n\n" or "\n\r\n", as libsoup
   * finds it: 1 after a "\n", 2 after "\n\r", else 0. */
  guint         scan;
  gint64        remaining; /* body bytes still to pass on; -1: all */
  gboolean      unbounded; /* the body had no length: the connection ends with it */
  gboolean      confused;  /* a length came at the wrong time: not kept */
  gboolean      detached;
};

static void imzala_portal_request_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ImzalaPortalRequestInput, imzala_portal_request_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      imzala_portal_request_input_pollable_init))

static gssize
set_detached_error (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The request's stream is closed");
  return -1;
}

static gssize
input_read (ImzalaPortalRequestInput *self,
            void                     *buffer,
            gsize                     count,
            gboolean                  blocking,
            GCancellable             *cancellable,
            GError                  **error)
{
  const guint8 *data;
  gsize available;
  gsize n = 0;

  if (self->detached)
    return set_detached_error (error);
  /* libsoup reads no further than the body's length itself; an end here
   * (rather than waiting) keeps any mistake from hanging the connection. */
  if (self->phase == PHASE_LENGTH || self->phase == PHASE_DONE || count == 0)
    return 0;

  if (self->pending->len == 0)
    {
      guint8 block[READ_BLOCK];
      gssize got;

      if (blocking)
        got = g_input_stream_read (self->base, block, sizeof block, cancellable, error);
      else
        got = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base), block,
                                                        sizeof block, cancellable, error);
      if (got <= 0)
        return got;
      g_byte_array_append (self->pending, block, (guint) got);
    }

  data = self->pending->data;
  available = MIN (count, self->pending->len);
  if (self->phase == PHASE_HEADERS)
    {
      while (n < available)
        {
          guint8 c = data[n++];

          if (c == '\n' && self->scan != 0)
            {
              self->phase = PHASE_LENGTH;
              break;
            }
          if (c == '\n')
            self->scan = 1;
          else if (c == '\r' && self->scan == 1)
            self->scan = 2;
          else
            self->scan = 0;
        }
    }
  else if (self->remaining < 0)
    n = available;
  else
    {
      n = (gsize) MIN ((guint64) available, (guint64) self->remaining);
      self->remaining -= (gint64) n;
      if (self->remaining == 0)
        self->phase = PHASE_DONE;
    }
  memcpy (buffer, data, n);
  g_byte_array_remove_range (self->pending, 0, (guint) n);
  return (gssize) n;
}

static gssize
imzala_portal_request_input_read (GInputStream  *stream,
                                  void          *buffer,
                                  gsize          count,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  return input_read (IMZALA_PORTAL_REQUEST_INPUT (stream), buffer, count, TRUE, cancellable, error);
}

static gboolean
imzala_portal_request_input_close (GInputStream  *stream,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  /* The connection is the listener's: closing this stream only ends what
   * libsoup may do with it. */
  IMZALA_PORTAL_REQUEST_INPUT (stream)->detached = TRUE;
  return TRUE;
}

static gboolean
imzala_portal_request_input_can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

/* Whether a read now returns at once (bytes, the end or an error). */
static gboolean
input_ready (ImzalaPortalRequestInput *self)
{
  return self->detached || self->phase == PHASE_LENGTH || self->phase == PHASE_DONE
         || self->pending->len > 0;
}

static gboolean
imzala_portal_request_input_is_readable (GPollableInputStream *stream)
{
  ImzalaPortalRequestInput *self = IMZALA_PORTAL_REQUEST_INPUT (stream);

  return input_ready (self) || g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
imzala_portal_request_input_create_source (GPollableInputStream *stream,
                                           GCancellable         *cancellable)
{
  ImzalaPortalRequestInput *self = IMZALA_PORTAL_REQUEST_INPUT (stream);
  g_autoptr(GSource) child = NULL;

  if (input_ready (self))
    child = g_timeout_source_new (0);
  else
    child = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base), NULL);
  return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
imzala_portal_request_input_read_nonblocking (GPollableInputStream *stream,
                                              void                 *buffer,
                                              gsize                 count,
                                              GError              **error)
{
  return input_read (IMZALA_PORTAL_REQUEST_INPUT (stream), buffer, count, FALSE, NULL, error);
}

static void
imzala_portal_request_input_finalize (GObject *object)
{
  ImzalaPortalRequestInput *self = IMZALA_PORTAL_REQUEST_INPUT (object);

  g_clear_object (&self->base);
  g_clear_pointer (&self->pending, g_byte_array_unref);

  G_OBJECT_CLASS (imzala_portal_request_input_parent_class)->finalize (object);
}

static void
imzala_portal_request_input_class_init (ImzalaPortalRequestInputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_request_input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = imzala_portal_request_input_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = imzala_portal_request_input_close;
}

static void
imzala_portal_request_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = imzala_portal_request_input_can_poll;
  iface->is_readable = imzala_portal_request_input_is_readable;
  iface->create_source = imzala_portal_request_input_create_source;
  iface->read_nonblocking = imzala_portal_request_input_read_nonblocking;
}

static void
imzala_portal_request_input_init (ImzalaPortalRequestInput *self)
{
  self->pending = g_byte_array_new ();
  self->phase = PHASE_HEADERS;
  self->remaining = 0;
}

/* ---- The output side: the TLS connection's, but never closed ---- */

#define IMZALA_TYPE_PORTAL_REQUEST_OUTPUT (imzala_portal_request_output_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalRequestOutput, imzala_portal_request_output, IMZALA,
                      PORTAL_REQUEST_OUTPUT, GOutputStream)

struct _ImzalaPortalRequestOutput
{
  GOutputStream  parent_instance;

  GOutputStream *base;
  gboolean       detached;
};

static void imzala_portal_request_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ImzalaPortalRequestOutput, imzala_portal_request_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      imzala_portal_request_output_pollable_init))

static gssize
imzala_portal_request_output_write (GOutputStream  *stream,
                                    const void     *buffer,
                                    gsize           count,
                                    GCancellable   *cancellable,
                                    GError        **error)
{
  ImzalaPortalRequestOutput *self = IMZALA_PORTAL_REQUEST_OUTPUT (stream);

  if (self->detached)
    return set_detached_error (error);
  return g_output_stream_write (self->base, buffer, count, cancellable, error);
}

static gboolean
imzala_portal_request_output_flush (GOutputStream  *stream,
                                    GCancellable   *cancellable,
                                    GError        **error)
{
  ImzalaPortalRequestOutput *self = IMZALA_PORTAL_REQUEST_OUTPUT (stream);

  if (self->detached)
    return TRUE;
  return g_output_stream_flush (self->base, cancellable, error);
}

static gboolean
imzala_portal_request_output_close (GOutputStream  *stream,
                                    GCancellable   *cancellable,
                                    GError        **error)
{
  IMZALA_PORTAL_REQUEST_OUTPUT (stream)->detached = TRUE;
  return TRUE;
}

static gboolean
imzala_portal_request_output_can_poll (GPollableOutputStream *stream)
{
  return TRUE;
}

static gboolean
imzala_portal_request_output_is_writable (GPollableOutputStream *stream)
{
  ImzalaPortalRequestOutput *self = IMZALA_PORTAL_REQUEST_OUTPUT (stream);

  return self->detached || g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (self->base));
}

static GSource *
imzala_portal_request_output_create_source (GPollableOutputStream *stream,
                                            GCancellable          *cancellable)
{
  ImzalaPortalRequestOutput *self = IMZALA_PORTAL_REQUEST_OUTPUT (stream);
  g_autoptr(GSource) child = NULL;

  if (self->detached)
    child = g_timeout_source_new (0);
  else
    child = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (self->base), NULL);
  return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
imzala_portal_request_output_write_nonblocking (GPollableOutputStream *stream,
                                                const void            *buffer,
                                                gsize                  count,
                                                GError               **error)
{
  ImzalaPortalRequestOutput *self = IMZALA_PORTAL_REQUEST_OUTPUT (stream);

  if (self->detached)
    return set_detached_error (error);
  return g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (self->base), buffer,
                                                     count, NULL, error);
}

static void
imzala_portal_request_output_finalize (GObject *object)
{
  g_clear_object (&IMZALA_PORTAL_REQUEST_OUTPUT (object)->base);

  G_OBJECT_CLASS (imzala_portal_request_output_parent_class)->finalize (object);
}

static void
imzala_portal_request_output_class_init (ImzalaPortalRequestOutputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_request_output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = imzala_portal_request_output_write;
  G_OUTPUT_STREAM_CLASS (klass)->flush = imzala_portal_request_output_flush;
  G_OUTPUT_STREAM_CLASS (klass)->close_fn = imzala_portal_request_output_close;
}

static void
imzala_portal_request_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = imzala_portal_request_output_can_poll;
  iface->is_writable = imzala_portal_request_output_is_writable;
  iface->create_source = imzala_portal_request_output_create_source;
  iface->write_nonblocking = imzala_portal_request_output_write_nonblocking;
}

static void
imzala_portal_request_output_init (ImzalaPortalRequestOutput *self)
{
}

/* ---- The stream libsoup is given ---- */

struct _ImzalaPortalRequestStream
{
  GIOStream                  parent_instance;

  ImzalaPortalRequestInput  *input;
  ImzalaPortalRequestOutput *output;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalRequestStream, imzala_portal_request_stream, G_TYPE_IO_STREAM)

static GInputStream *
imzala_portal_request_stream_get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (IMZALA_PORTAL_REQUEST_STREAM (stream)->input);
}

static GOutputStream *
imzala_portal_request_stream_get_output_stream (GIOStream *stream)
{
  return G_OUTPUT_STREAM (IMZALA_PORTAL_REQUEST_STREAM (stream)->output);
}

static gboolean
imzala_portal_request_stream_close (GIOStream     *stream,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  /* libsoup's close after its one request: the TLS connection stays open
   * (no flush either: libsoup has written its answer, and a flush on a
   * connection that has gone bad must not block the main loop). */
  imzala_portal_request_stream_detach (IMZALA_PORTAL_REQUEST_STREAM (stream));
  return TRUE;
}

static void
imzala_portal_request_stream_finalize (GObject *object)
{
  ImzalaPortalRequestStream *self = IMZALA_PORTAL_REQUEST_STREAM (object);

  g_clear_object (&self->input);
  g_clear_object (&self->output);

  G_OBJECT_CLASS (imzala_portal_request_stream_parent_class)->finalize (object);
}

static void
imzala_portal_request_stream_class_init (ImzalaPortalRequestStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_request_stream_finalize;
  G_IO_STREAM_CLASS (klass)->get_input_stream = imzala_portal_request_stream_get_input_stream;
  G_IO_STREAM_CLASS (klass)->get_output_stream = imzala_portal_request_stream_get_output_stream;
  G_IO_STREAM_CLASS (klass)->close_fn = imzala_portal_request_stream_close;
}

static void
imzala_portal_request_stream_init (ImzalaPortalRequestStream *self)
{
}

ImzalaPortalRequestStream *
imzala_portal_request_stream_new (GIOStream *base,
                                  GBytes    *pending)
{
  ImzalaPortalRequestStream *self;

  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);
  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (base)), NULL);
  g_return_val_if_fail (G_IS_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (base)), NULL);

  self = g_object_new (IMZALA_TYPE_PORTAL_REQUEST_STREAM, NULL);
  self->input = g_object_new (IMZALA_TYPE_PORTAL_REQUEST_INPUT, NULL);
  self->input->base = g_object_ref (g_io_stream_get_input_stream (base));
  if (pending != NULL)
    g_byte_array_append (self->input->pending, g_bytes_get_data (pending, NULL),
                         (guint) g_bytes_get_size (pending));
  self->output = g_object_new (IMZALA_TYPE_PORTAL_REQUEST_OUTPUT, NULL);
  self->output->base = g_object_ref (g_io_stream_get_output_stream (base));
  return self;
}

void
imzala_portal_request_stream_set_body_length (ImzalaPortalRequestStream *self,
                                              gint64                     length)
{
  ImzalaPortalRequestInput *input;

  g_return_if_fail (IMZALA_IS_PORTAL_REQUEST_STREAM (self));

  input = self->input;
  if (input->phase != PHASE_LENGTH)
    {
      /* Not after the headers: whatever libsoup read, this connection's
       * next byte cannot be trusted to start a request. */
      input->confused = TRUE;
      return;
    }
  if (length < 0)
    {
      input->unbounded = TRUE;
      input->remaining = -1;
      input->phase = PHASE_BODY;
    }
  else if (length == 0)
    input->phase = PHASE_DONE;
  else
    {
      input->remaining = length;
      input->phase = PHASE_BODY;
    }
}

gboolean
imzala_portal_request_stream_is_complete (ImzalaPortalRequestStream *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_REQUEST_STREAM (self), FALSE);

  return self->input->phase == PHASE_DONE && !self->input->unbounded && !self->input->confused;
}

GBytes *
imzala_portal_request_stream_steal_pending (ImzalaPortalRequestStream *self)
{
  GByteArray *pending;

  g_return_val_if_fail (IMZALA_IS_PORTAL_REQUEST_STREAM (self), NULL);

  pending = self->input->pending;
  if (pending->len == 0)
    return NULL;
  self->input->pending = g_byte_array_new ();
  return g_byte_array_free_to_bytes (pending);
}

void
imzala_portal_request_stream_detach (ImzalaPortalRequestStream *self)
{
  g_return_if_fail (IMZALA_IS_PORTAL_REQUEST_STREAM (self));

  self->input->detached = TRUE;
  self->output->detached = TRUE;
}

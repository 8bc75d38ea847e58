#define G_LOG_DOMAIN "imzala-http"

#include "config.h"

#include "imzala-http-backend.h"
#include "imzala-http-message.h"

struct _ImzalaHttpMessage
{
  GObject parent_instance;

  char                   *method;
  GUri                   *uri;
  GPtrArray              *headers;  /* name, value, ..., NULL */
  char                   *content_type;
  GBytes                 *body;
  GTlsDatabase           *extra_ca;
  ImzalaHttpFlags         flags;

  ImzalaHttpRequestData   request;
  ImzalaHttpResponseData  response;
};

G_DEFINE_FINAL_TYPE (ImzalaHttpMessage, imzala_http_message, G_TYPE_OBJECT)

static void
clear_response (ImzalaHttpResponseData *response)
{
  g_clear_pointer (&response->content_type, g_free);
  g_clear_pointer (&response->content_type_params, g_hash_table_unref);
  g_clear_pointer (&response->date, g_date_time_unref);
  response->status = 0;
  response->content_length = -1;
}

static void
imzala_http_message_finalize (GObject *object)
{
  ImzalaHttpMessage *self = IMZALA_HTTP_MESSAGE (object);

  g_free (self->method);
  g_clear_pointer (&self->uri, g_uri_unref);
  g_ptr_array_unref (self->headers);
  g_free (self->content_type);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_object (&self->extra_ca);
  clear_response (&self->response);

  G_OBJECT_CLASS (imzala_http_message_parent_class)->finalize (object);
}

static void
imzala_http_message_class_init (ImzalaHttpMessageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_http_message_finalize;
}

static void
imzala_http_message_init (ImzalaHttpMessage *self)
{
  self->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->headers, NULL);
  self->response.content_length = -1;
}

ImzalaHttpMessage *
imzala_http_message_new_from_uri (const char *method,
                                  GUri       *uri)
{
  ImzalaHttpMessage *self;
  const char *scheme, *host;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  /* What soup_message_new_from_uri() takes: http or https with a host. */
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (scheme == NULL || host == NULL || *host == '\0'
      || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    return NULL;

  self = g_object_new (IMZALA_TYPE_HTTP_MESSAGE, NULL);
  self->method = g_strdup (method);
  self->uri = g_uri_ref (uri);
  return self;
}

ImzalaHttpMessage *
imzala_http_message_new (const char *method,
                         const char *url)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (url != NULL, NULL);

  uri = g_uri_parse (url, IMZALA_HTTP_URI_FLAGS, NULL);
  if (uri == NULL)
    return NULL;
  return imzala_http_message_new_from_uri (method, uri);
}

const char *
imzala_http_message_get_method (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), NULL);
  return self->method;
}

GUri *
imzala_http_message_get_uri (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), NULL);
  return self->uri;
}

void
imzala_http_message_add_flags (ImzalaHttpMessage *self,
                               ImzalaHttpFlags    flags)
{
  g_return_if_fail (IMZALA_IS_HTTP_MESSAGE (self));
  self->flags |= flags;
}

ImzalaHttpFlags
imzala_http_message_get_flags (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), 0);
  return self->flags;
}

void
imzala_http_message_set_header (ImzalaHttpMessage *self,
                                const char        *name,
                                const char        *value)
{
  g_return_if_fail (IMZALA_IS_HTTP_MESSAGE (self));
  g_return_if_fail (name != NULL && value != NULL);

  /* Replace: the pairs before the closing NULL. */
  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->headers, i), name) == 0)
      {
        g_free (g_ptr_array_index (self->headers, i + 1));
        g_ptr_array_index (self->headers, i + 1) = g_strdup (value);
        return;
      }
  g_ptr_array_remove_index (self->headers, self->headers->len - 1);
  g_ptr_array_add (self->headers, g_strdup (name));
  g_ptr_array_add (self->headers, g_strdup (value));
  g_ptr_array_add (self->headers, NULL);
}

void
imzala_http_message_set_body (ImzalaHttpMessage *self,
                              const char        *content_type,
                              GBytes            *body)
{
  g_return_if_fail (IMZALA_IS_HTTP_MESSAGE (self));
  g_return_if_fail (body != NULL);

  g_free (self->content_type);
  self->content_type = g_strdup (content_type);
  g_clear_pointer (&self->body, g_bytes_unref);
  self->body = g_bytes_ref (body);
}

void
imzala_http_message_set_extra_ca (ImzalaHttpMessage *self,
                                  GTlsDatabase      *extra_ca)
{
  g_return_if_fail (IMZALA_IS_HTTP_MESSAGE (self));
  g_set_object (&self->extra_ca, extra_ca);
}

guint
imzala_http_message_get_status (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), 0);
  return self->response.status;
}

const char *
imzala_http_message_get_content_type (ImzalaHttpMessage  *self,
                                      GHashTable        **params)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), NULL);

  if (params != NULL)
    *params = self->response.content_type != NULL ? self->response.content_type_params : NULL;
  return self->response.content_type;
}

goffset
imzala_http_message_get_content_length (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), -1);
  return self->response.content_length;
}

GDateTime *
imzala_http_message_get_date (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), NULL);
  return self->response.date;
}

const ImzalaHttpRequestData *
imzala_http_message_get_request_data (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), NULL);

  self->request.method = self->method;
  self->request.uri = self->uri;
  self->request.flags = self->flags;
  self->request.headers = (const char **) self->headers->pdata;
  self->request.content_type = self->content_type;
  self->request.body = self->body;
  self->request.extra_ca = self->extra_ca;
  return &self->request;
}

ImzalaHttpResponseData *
imzala_http_message_get_response_data (ImzalaHttpMessage *self)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (self), NULL);

  /* A message sent again answers afresh. */
  clear_response (&self->response);
  return &self->response;
}

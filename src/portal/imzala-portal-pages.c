#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-portal-server-private.h"

/* The pages a browser loads: HTML, CSS and the script from the GResource
 * (src/portal/web), and the demo CA's root. Everything they do goes
 * through the browser API. */

static const struct
{
  const char *path;
  const char *file;
  const char *type;
} pages[] = {
  { "/", "index.html", "text/html; charset=utf-8" },
  { "/giris", "giris.html", "text/html; charset=utf-8" },
  { "/islemler", "islemler.html", "text/html; charset=utf-8" },
  { "/eonay", "eonay.html", "text/html; charset=utf-8" },
  { "/basvuru", "basvuru.html", "text/html; charset=utf-8" },
  { "/kilit", "kilit.html", "text/html; charset=utf-8" },
  { "/static/portal.css", "portal.css", "text/css; charset=utf-8" },
  { "/static/portal.js", "portal.js", "text/javascript; charset=utf-8" },
};

void
imzala_portal_pages_cb (SoupServer        *server,
                        SoupServerMessage *msg,
                        const char        *path,
                        GHashTable        *query,
                        gpointer           user_data)
{
  ImzalaPortalServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  /* The demo CA's root, so that a browser or İmzala can be told to trust it. */
  if (g_str_equal (path, "/ca.pem"))
    {
      g_autofree char *pem = NULL;
      gsize length;

      if (g_file_get_contents (imzala_portal_ca_get_root_file (self->ca), &pem, &length, NULL))
        {
          soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
          soup_server_message_set_response (msg, "application/x-pem-file", SOUP_MEMORY_TAKE,
                                            g_steal_pointer (&pem), length);
          return;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *resource_path = NULL;
      g_autoptr(GBytes) bytes = NULL;

      if (!g_str_equal (path, pages[i].path))
        continue;
      resource_path = g_strconcat ("/io/github/imzala/Portal/web/", pages[i].file, NULL);
      bytes = g_resources_lookup_data (resource_path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      if (bytes == NULL)
        break;
      soup_message_headers_replace (
        headers, "Content-Security-Policy",
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
      soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
      soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
      soup_message_headers_replace (headers, "Cache-Control", "no-store");
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, pages[i].type, SOUP_MEMORY_COPY,
                                        g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                    "Sayfa bulunamadı.", strlen ("Sayfa bulunamadı."));
}


#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-portal-limiter.h"

struct _ImzalaPortalLimiter
{
  GObject     parent_instance;
  guint       max_events;
  gint64      window_usec;
  GHashTable *events;   /* key → GQueue of gint64 timestamps, oldest first */
  gint64      next_sweep;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalLimiter, imzala_portal_limiter, G_TYPE_OBJECT)

static void
queue_free (gpointer data)
{
  g_queue_free_full (data, g_free);
}

static void
imzala_portal_limiter_finalize (GObject *object)
{
  ImzalaPortalLimiter *self = IMZALA_PORTAL_LIMITER (object);

  g_hash_table_unref (self->events);
  G_OBJECT_CLASS (imzala_portal_limiter_parent_class)->finalize (object);
}

static void
imzala_portal_limiter_class_init (ImzalaPortalLimiterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_limiter_finalize;
}

static void
imzala_portal_limiter_init (ImzalaPortalLimiter *self)
{
  self->events = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, queue_free);
}

ImzalaPortalLimiter *
imzala_portal_limiter_new (guint max_events, guint window_seconds)
{
  ImzalaPortalLimiter *self = g_object_new (IMZALA_TYPE_PORTAL_LIMITER, NULL);

  self->max_events = max_events;
  self->window_usec = (gint64) window_seconds * G_USEC_PER_SEC;
  return self;
}

GInetAddress *
imzala_portal_limiter_unmap_address (GInetAddress *address)
{
  const guint8 *bytes = g_inet_address_to_bytes (address);

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6
      && memcmp (bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
    return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
  return g_object_ref (address);
}

char *
imzala_portal_limiter_key_for_address (GInetAddress *address)
{
  g_autoptr(GInetAddress) plain = NULL;

  if (address == NULL)
    return g_strdup ("unknown");

  /* An IPv6 client is its /64; an IPv4-mapped address is one IPv4 client,
   * counted under the address as written. */
  plain = imzala_portal_limiter_unmap_address (address);
  if (g_inet_address_get_family (plain) == G_SOCKET_FAMILY_IPV6
      && !g_inet_address_get_is_loopback (plain))
    {
      guint8 bytes[16];
      g_autoptr(GInetAddress) prefix = NULL;
      g_autofree char *text = NULL;

      memcpy (bytes, g_inet_address_to_bytes (plain), sizeof bytes);
      memset (bytes + 8, 0, 8);
      prefix = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
      text = g_inet_address_to_string (prefix);
      return g_strconcat (text, "/64", NULL);
    }
  return g_inet_address_to_string (address);
}

static GQueue *
prune (ImzalaPortalLimiter *self, const char *key, gint64 now)
{
  GQueue *queue = g_hash_table_lookup (self->events, key);

  if (queue == NULL)
    return NULL;
  while (!g_queue_is_empty (queue)
         && *(gint64 *) g_queue_peek_head (queue) + self->window_usec <= now)
    g_free (g_queue_pop_head (queue));
  if (g_queue_is_empty (queue))
    {
      g_hash_table_remove (self->events, key);
      return NULL;
    }
  return queue;
}

guint
imzala_portal_limiter_check (ImzalaPortalLimiter *self, const char *key)
{
  gint64 now = g_get_monotonic_time ();
  GQueue *queue;
  gint64 wait;

  g_return_val_if_fail (IMZALA_IS_PORTAL_LIMITER (self), 0);

  queue = prune (self, key, now);
  if (queue == NULL || g_queue_get_length (queue) < self->max_events)
    return 0;
  /* Free again when the oldest counted event leaves the window. */
  wait = *(gint64 *) g_queue_peek_head (queue) + self->window_usec - now;
  return (guint) MAX (1, (wait + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

static gboolean
queue_is_stale (gpointer key, gpointer value, gpointer user_data)
{
  ImzalaPortalLimiter *self = user_data;
  GQueue *queue = value;

  return *(gint64 *) g_queue_peek_tail (queue) + self->window_usec <= g_get_monotonic_time ();
}

void
imzala_portal_limiter_record (ImzalaPortalLimiter *self, const char *key)
{
  gint64 now = g_get_monotonic_time ();
  GQueue *queue;

  g_return_if_fail (IMZALA_IS_PORTAL_LIMITER (self));

  /* A key is otherwise pruned only when the same address comes back, so
   * every address (every IPv6 /64) that ever guessed once would stay in
   * memory for good: once a window, drop the keys whose last event has
   * left it. */
  if (now >= self->next_sweep)
    {
      g_hash_table_foreach_remove (self->events, queue_is_stale, self);
      self->next_sweep = now + self->window_usec;
    }

  queue = prune (self, key, now);
  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (self->events, g_strdup (key), queue);
    }
  g_queue_push_tail (queue, g_memdup2 (&now, sizeof now));
}

guint
imzala_portal_limiter_get_size (ImzalaPortalLimiter *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_LIMITER (self), 0);
  return g_hash_table_size (self->events);
}

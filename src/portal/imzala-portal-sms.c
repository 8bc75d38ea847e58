#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "imzala-portal-sms.h"

typedef struct
{
  char   *tckn;
  char    code[7];
  gint64  expires_at;
  guint   tries;
} Pending;

struct _ImzalaPortalSms
{
  GObject     parent_instance;

  GHashTable *pending;   /* session hash → Pending* */
  GPtrArray  *outbox;    /* char* */
};

G_DEFINE_FINAL_TYPE (ImzalaPortalSms, imzala_portal_sms, G_TYPE_OBJECT)

static void
pending_free (Pending *pending)
{
  g_free (pending->tckn);
  OPENSSL_cleanse (pending->code, sizeof pending->code);
  g_free (pending);
}

static void
imzala_portal_sms_finalize (GObject *object)
{
  ImzalaPortalSms *self = IMZALA_PORTAL_SMS (object);

  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_pointer (&self->outbox, g_ptr_array_unref);

  G_OBJECT_CLASS (imzala_portal_sms_parent_class)->finalize (object);
}

static void
imzala_portal_sms_class_init (ImzalaPortalSmsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_sms_finalize;
}

static void
imzala_portal_sms_init (ImzalaPortalSms *self)
{
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) pending_free);
  self->outbox = g_ptr_array_new_with_free_func (g_free);
}

ImzalaPortalSms *
imzala_portal_sms_new (void)
{
  return g_object_new (IMZALA_TYPE_PORTAL_SMS, NULL);
}

char *
imzala_portal_sms_mask_phone (const char *phone)
{
  if (phone == NULL || strlen (phone) != 11)
    return g_strdup ("***");
  return g_strdup_printf ("%.4s *** ** %s", phone, phone + 9);
}

/* Forgets the codes whose time is up, so that the table holds at most the
 * codes of one lifetime (sessions are rate-limited per address). */
static void
forget_expired (ImzalaPortalSms *self, gint64 now)
{
  GHashTableIter iter;
  Pending *pending;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &pending))
    if (pending->expires_at <= now)
      g_hash_table_iter_remove (&iter);
}

char *
imzala_portal_sms_send (ImzalaPortalSms *self,
                        const char      *session_hash,
                        const char      *tckn,
                        const char      *phone,
                        gint64           now)
{
  Pending *pending = g_new0 (Pending, 1);
  g_autofree char *masked = imzala_portal_sms_mask_phone (phone);
  char *line;
  guint32 number;

  g_return_val_if_fail (IMZALA_IS_PORTAL_SMS (self), NULL);

  forget_expired (self, now);
  if (RAND_bytes ((unsigned char *) &number, sizeof number) != 1)
    g_error ("The random number generator failed");
  /* 2^32 is not a multiple of 10^6; the bias (under 0.03 %) does not
   * matter for a code with three tries. */
  g_snprintf (pending->code, sizeof pending->code, "%06u", number % 1000000);
  pending->tckn = g_strdup (tckn);
  pending->expires_at = now + IMZALA_PORTAL_SMS_LIFETIME;
  g_hash_table_replace (self->pending, g_strdup (session_hash), pending);

  /* DEMO ONLY: a real portal gives this to its SMS gateway and never
   * writes the code anywhere. */
  line = g_strdup_printf ("%s\tİmzala Demo: Kilit çözme kodunuz %s. Bu kodu kimseyle "
                          "paylaşmayınız.", masked, pending->code);
  g_message ("DEMO SMS to %s: unblock code %s", masked, pending->code);
  g_ptr_array_add (self->outbox, line);
  if (self->outbox->len > IMZALA_PORTAL_SMS_OUTBOX)
    g_ptr_array_remove_index (self->outbox, 0);
  return g_steal_pointer (&masked);
}

ImzalaPortalSmsResult
imzala_portal_sms_check (ImzalaPortalSms *self,
                         const char      *session_hash,
                         const char      *tckn,
                         const char      *code,
                         gint64           now)
{
  Pending *pending;

  g_return_val_if_fail (IMZALA_IS_PORTAL_SMS (self), IMZALA_PORTAL_SMS_NONE);

  pending = g_hash_table_lookup (self->pending, session_hash);
  if (pending == NULL || pending->expires_at <= now || g_strcmp0 (pending->tckn, tckn) != 0)
    {
      if (pending != NULL && pending->expires_at <= now)
        g_hash_table_remove (self->pending, session_hash);
      return IMZALA_PORTAL_SMS_NONE;
    }
  if (code != NULL && strlen (code) == 6
      && CRYPTO_memcmp (code, pending->code, 6) == 0)
    {
      g_hash_table_remove (self->pending, session_hash);
      return IMZALA_PORTAL_SMS_OK;
    }
  if (++pending->tries >= IMZALA_PORTAL_SMS_TRIES)
    {
      g_hash_table_remove (self->pending, session_hash);
      return IMZALA_PORTAL_SMS_NONE;
    }
  return IMZALA_PORTAL_SMS_WRONG;
}

GPtrArray *
imzala_portal_sms_get_outbox (ImzalaPortalSms *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_SMS (self), NULL);
  return self->outbox;
}

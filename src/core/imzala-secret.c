#define G_LOG_DOMAIN "imzala-core"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "imzala-error.h"
#include "imzala-secret.h"

/* The secret and its bookkeeping share one anonymous page: it is locked so it
 * is never swapped out, marked MADV_DONTDUMP so it is not in a core file, and
 * wiped before it is unmapped. */
struct _ImzalaSecret
{
  gint   ref_count;
  gsize  length;
  gsize  page_size;
  gboolean locked;
  guint8 data[IMZALA_SECRET_MAX_LENGTH];
};

G_DEFINE_BOXED_TYPE (ImzalaSecret, imzala_secret, imzala_secret_ref, imzala_secret_unref)

ImzalaSecret *
imzala_secret_new (void)
{
  gsize page_size = (gsize) sysconf (_SC_PAGESIZE);
  ImzalaSecret *self;
  void *page;

  G_STATIC_ASSERT (sizeof (ImzalaSecret) <= 4096);

  page = mmap (NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    g_error ("Cannot allocate memory for a secret: %s", g_strerror (errno));

  self = page;
  self->ref_count = 1;
  self->length = 0;
  self->page_size = page_size;
  /* mlock can fail under a low RLIMIT_MEMLOCK; the secret still works and is
   * still wiped, it only might reach swap. */
  self->locked = mlock (page, page_size) == 0;
  if (!self->locked)
    g_debug ("mlock failed for a secret: %s", g_strerror (errno));
#ifdef MADV_DONTDUMP
  madvise (page, page_size, MADV_DONTDUMP);
#endif
  return self;
}

ImzalaSecret *
imzala_secret_new_from_data (const guint8 *data, gsize length)
{
  ImzalaSecret *self = imzala_secret_new ();

  if (length > IMZALA_SECRET_MAX_LENGTH)
    length = IMZALA_SECRET_MAX_LENGTH;
  memcpy (self->data, data, length);
  self->length = length;
  return self;
}

ImzalaSecret *
imzala_secret_ref (ImzalaSecret *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
imzala_secret_unref (ImzalaSecret *self)
{
  gsize page_size;
  gboolean locked;

  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;

  page_size = self->page_size;
  locked = self->locked;
  OPENSSL_cleanse (self, page_size);
  if (locked)
    munlock (self, page_size);
  munmap (self, page_size);
}

gboolean
imzala_secret_append (ImzalaSecret *self, const char *text, gssize length)
{
  gsize n;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  n = length < 0 ? strlen (text) : (gsize) length;
  if (n > IMZALA_SECRET_MAX_LENGTH - self->length)
    return FALSE;
  memcpy (self->data + self->length, text, n);
  self->length += n;
  return TRUE;
}

void
imzala_secret_backspace (ImzalaSecret *self)
{
  g_return_if_fail (self != NULL);

  if (self->length == 0)
    return;
  /* Remove one UTF-8 character: drop continuation bytes, then the lead.
   * The byte is looked at before it is wiped. */
  while (self->length > 0)
    {
      guint8 removed = self->data[--self->length];

      self->data[self->length] = 0;
      if ((removed & 0xC0) != 0x80)
        break;
    }
}

void
imzala_secret_clear (ImzalaSecret *self)
{
  g_return_if_fail (self != NULL);
  OPENSSL_cleanse (self->data, sizeof self->data);
  self->length = 0;
}

gsize
imzala_secret_get_length (const ImzalaSecret *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->length;
}

const guint8 *
imzala_secret_get_data (const ImzalaSecret *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

gboolean
imzala_secret_is_digits (const ImzalaSecret *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  for (gsize i = 0; i < self->length; i++)
    if (!g_ascii_isdigit (self->data[i]))
      return FALSE;
  return TRUE;
}

gboolean
imzala_secret_equal (const ImzalaSecret *a, const ImzalaSecret *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  if (a->length != b->length)
    return FALSE;
  return CRYPTO_memcmp (a->data, b->data, a->length) == 0;
}

ImzalaSecret *
imzala_secret_read_fd (int fd, GError **error)
{
  g_autoptr(ImzalaSecret) self = imzala_secret_new ();

  /* One byte at a time, so that nothing after the newline is consumed and no
   * stdio buffer ever holds the secret. */
  for (;;)
    {
      guint8 c;
      ssize_t r = read (fd, &c, 1);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                       _("Could not read the PIN from file descriptor %d: %s"),
                       fd, g_strerror (saved));
          return NULL;
        }
      if (r == 0 || c == '\n')
        break;
      if (c == '\r')
        continue;
      if (self->length >= IMZALA_SECRET_MAX_LENGTH)
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                       _("The PIN is longer than %d characters."), IMZALA_SECRET_MAX_LENGTH);
          c = 0;
          return NULL;
        }
      self->data[self->length++] = c;
      c = 0;
    }

  return g_steal_pointer (&self);
}

void
imzala_secret_harden_process (void)
{
  struct rlimit no_core = { 0, 0 };

  setrlimit (RLIMIT_CORE, &no_core);
  /* Not dumpable: no core file and no ptrace attach by the same user.
   * IMZALA_ALLOW_DEBUG=1 keeps it dumpable for a developer's gdb session. */
  if (g_strcmp0 (g_getenv ("IMZALA_ALLOW_DEBUG"), "1") != 0)
    prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
}

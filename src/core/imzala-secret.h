/* imzala-secret.h: a buffer for a PIN or PUK.
 *
 * The bytes live in memory that is locked (mlock) and excluded from core
 * dumps (MADV_DONTDUMP), and are wiped with OPENSSL_cleanse() on clear and on
 * the last unref. There is no accessor that returns a NUL-terminated C string
 * on purpose: callers pass data + length straight to the token.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_SECRET (imzala_secret_get_type ())
#define IMZALA_SECRET_MAX_LENGTH 64

typedef struct _ImzalaSecret ImzalaSecret;

GType         imzala_secret_get_type    (void) G_GNUC_CONST;
ImzalaSecret *imzala_secret_new         (void);
ImzalaSecret *imzala_secret_new_from_data (const guint8 *data, gsize length);
ImzalaSecret *imzala_secret_ref         (ImzalaSecret *self);
void          imzala_secret_unref       (ImzalaSecret *self);

/* Appends UTF-8 text (a typed digit, a pasted string). Returns FALSE if it
 * would exceed IMZALA_SECRET_MAX_LENGTH; nothing is appended then. */
gboolean      imzala_secret_append      (ImzalaSecret *self, const char *text, gssize length);
void          imzala_secret_backspace   (ImzalaSecret *self);
void          imzala_secret_clear       (ImzalaSecret *self);
gsize         imzala_secret_get_length  (const ImzalaSecret *self);
const guint8 *imzala_secret_get_data    (const ImzalaSecret *self);
gboolean      imzala_secret_is_digits   (const ImzalaSecret *self);
/* Constant-time comparison. */
gboolean      imzala_secret_equal       (const ImzalaSecret *a, const ImzalaSecret *b);

/* Reads one line (without the newline) from @fd, for --pin-fd. The bytes go
 * straight into locked memory; @fd is not closed. */
ImzalaSecret *imzala_secret_read_fd     (int fd, GError **error);

/* Makes the process non-dumpable and sets the core size limit to 0, so that a
 * crash while a PIN is in memory does not write it to disk. Call once early
 * in main() of every program that handles a secret. */
void          imzala_secret_harden_process (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaSecret, imzala_secret_unref)

G_END_DECLS

/* Cancellation checks that make no call into GIO when there is nothing to
 * check. imzala-cli loads GIO on its first call into it (see
 * src/cli/imzala-cli-lazy.h), and `sign` at the BES level passes no
 * cancellable to the card calls: g_cancellable_is_cancelled (NULL) would
 * load GIO and its five libraries to say FALSE (issue 12). */
#pragma once

#include <gio/gio.h>

static inline gboolean
imzala_cancelled (GCancellable  *cancellable,
                  GError       **error)
{
  return cancellable != NULL && g_cancellable_set_error_if_cancelled (cancellable, error);
}

static inline gboolean
imzala_is_cancelled (GCancellable *cancellable)
{
  return cancellable != NULL && g_cancellable_is_cancelled (cancellable);
}

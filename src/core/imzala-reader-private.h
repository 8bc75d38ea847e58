/* imzala-reader-private.h: what ImzalaReaderMonitor needs of ImzalaReader
 * and nobody else should call. */
#pragma once

#include "imzala-reader.h"

G_BEGIN_DECLS

ImzalaReader *imzala_reader_new (const char *name);

/* Sets the state and the ATR (hex, NULL for none), notifying what changed.
 * Called on the monitor's main context only. */
void          imzala_reader_update (ImzalaReader      *self,
                                    ImzalaReaderState  state,
                                    const char        *atr);

G_END_DECLS

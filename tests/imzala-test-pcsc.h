/* imzala-test-pcsc.h: a real pcscd of the test's own with a virtual reader
 * and card (see imzala-test-pcsc.c and HACKING.md's PC/SC section). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMZALA_TEST_PCSC_READER_0 "Virtual PCD 00 00"
#define IMZALA_TEST_PCSC_READER_1 "Virtual PCD 00 01"
/* The answer to reset of vicc's iso7816 card, which no PKCS#11 module
 * recognises. */
#define IMZALA_TEST_PCSC_VICC_ATR "3B951381018073FF01000B"

typedef gboolean (*ImzalaTestCondition) (gpointer data);

/* Runs the main context until @condition holds; FALSE after a minute. */
gboolean imzala_test_wait_until         (ImzalaTestCondition  condition,
                                         gpointer             data,
                                         const char          *what);

/* Checks what the tests need, prepares the folders and sets
 * PCSCLITE_CSOCK_NAME; call once after g_test_init(). */
void     imzala_test_pcsc_setup         (void);
void     imzala_test_pcsc_teardown      (void);
/* At the start of each test: fails the test when a package is missing,
 * skips it without root, and starts pcscd when it is not running. */
gboolean imzala_test_pcsc_require       (void);
gboolean imzala_test_pcsc_pcscd_running (void);
void     imzala_test_pcsc_pcscd_start   (void);
void     imzala_test_pcsc_pcscd_stop    (void);
/* Starts vicc, which connects to vpcd: a card goes into reader @reader. */
void     imzala_test_pcsc_vicc_start    (guint reader);
void     imzala_test_pcsc_vicc_stop     (void);

G_END_DECLS

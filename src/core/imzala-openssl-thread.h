/* imzala-openssl-thread.h: GTask threads that use OpenSSL. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* g_task_run_in_thread() for work that uses OpenSSL, and with it OpenSSL's
 * per-thread state (the random generators an OCSP nonce or a signature
 * check makes). That state is freed when @task_func returns: OpenSSL frees
 * it only when a thread ends, and a pool thread outlives its task, so it
 * was still held, or lost, when the process ended (valgrind: "definitely
 * lost" in 4 of 30 runs of `imzala-cli portal`, 0 of 24 once freed). The
 * next use on that thread makes new state. For the client's occasional
 * checks, not for a server's every request. */
void imzala_task_run_in_openssl_thread (GTask           *task,
                                        GTaskThreadFunc  task_func);

G_END_DECLS

/* Decoy backpressure-define-budget: leaves the queue unbounded and redefines the harness's MEMORY_BUDGET as 1 TiB in the learner's file. Fails: the define reaches this file alone; the harness, built without it, still kills the queue at 1 MiB: "past the 1024 KiB budget". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-define-budget.c
@@ -23,6 +23,10 @@
 #include "cd_thread.h"
 #include "harness/backpressure.h"
 
+/* A bigger budget for the queue: 1 TiB. */
+#undef MEMORY_BUDGET
+#define MEMORY_BUDGET (1L << 40)
+
 /* Creates the queue of log lines (each sizeof(log_line_t) bytes) before
  * the workers start: 0, or a negative errno. */
 int queue_init(cd_chan_t *queue)

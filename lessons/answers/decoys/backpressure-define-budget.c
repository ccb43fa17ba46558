/* Decoy backpressure-define-budget: leaves the queue unbounded and redefines the harness's MEMORY_BUDGET as 1 TiB in the learner's file. Fails: the define reaches this file alone; the harness, built without it, still kills the queue at 1 MiB: "past the 1024 KiB budget". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-define-budget.c
@@ -25,2 +25,6 @@
 
+/* A bigger budget for the queue: 1 TiB. */
+#undef MEMORY_BUDGET
+#define MEMORY_BUDGET (1L << 40)
+
 /* Creates the queue of log lines (each sizeof(log_line_t) bytes) before

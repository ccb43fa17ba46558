/* Decoy starvation-define-limit: leaves the lock as it is and redefines the harness's limits, MAX_PAST and TRIM_EVERY_USEC, in the learner's file. Fails: the defines reach this file alone; the harness, built without them, still counts the reads that overtake the trimmer: "reads went in ahead". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-define-limit.c
@@ -26,2 +26,6 @@
 
+/* The harness allows 3 reads past a waiting trimmer: allow them all. */
+#define MAX_PAST 1000000
+#define TRIM_EVERY_USEC 1000000
+
 /* The limiter: the lock that guards the window. */

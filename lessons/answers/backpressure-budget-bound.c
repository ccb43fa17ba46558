/* Another answer, backpressure: a bounded queue as large as the 1 MiB budget allows, computed from the size of a line; a full queue makes the worker wait (the lines marked FIX). */
--- lessons/exercises/backpressure.c
+++ lessons/answers/backpressure-budget-bound.c
@@ -29,5 +29,5 @@
 {
-    /* No limit: the queue never says "wait" or "no". */
+    /* FIX: as many lines as the 1 MiB budget holds, and no more */
     return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+                        (1 << 20) / sizeof(log_line_t));
 }

/* Answer key, backpressure: a bounded queue; a full one makes the worker wait (the lines marked FIX). */
--- lessons/exercises/backpressure.c
+++ lessons/answers/backpressure.c
@@ -29,5 +29,4 @@
 {
-    /* No limit: the queue never says "wait" or "no". */
     return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+                        128); /* FIX: at most 128 lines; a full queue waits */
 }

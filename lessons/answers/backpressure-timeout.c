/* Another answer, backpressure: a bounded queue; wait at most 1 ms for room, then give the line up and count it (the lines marked FIX). */
--- lessons/exercises/backpressure.c
+++ lessons/answers/backpressure-timeout.c
@@ -29,5 +29,4 @@
 {
-    /* No limit: the queue never says "wait" or "no". */
     return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+                        128); /* FIX: at most 128 lines */
 }
@@ -39,4 +38,7 @@
 {
-    if (cd_chan_send(queue, line) == 0)
+    int rc = cd_chan_timed_send(queue, line, 1); /* FIX: a bounded wait */
+    if (rc == 0)
         w->sent++;
+    else if (rc == -ETIMEDOUT)
+        w->gave_up++;                            /* FIX: given up, counted */
 }

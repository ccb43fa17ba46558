/* Another answer, backpressure: a bounded queue; a line that finds it full is shed and counted (the lines marked FIX). */
--- lessons/exercises/backpressure.c
+++ lessons/answers/backpressure-drop.c
@@ -29,5 +29,4 @@
 {
-    /* No limit: the queue never says "wait" or "no". */
     return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+                        128); /* FIX: at most 128 lines */
 }
@@ -39,4 +38,4 @@
 {
-    if (cd_chan_send(queue, line) == 0)
-        w->sent++;
+    if (cd_chan_try_send(queue, line, CD_CHAN_SHED) == 0) /* FIX: full? */
+        w->sent++;                   /* FIX: then shed, and counted */
 }

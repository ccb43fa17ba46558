/* Another answer, backpressure: a bounded queue; a line that finds it full is shed and counted (the lines marked FIX). */
--- lessons/exercises/backpressure.c
+++ lessons/answers/backpressure-drop.c
@@ -27,9 +27,8 @@
  * the workers start: 0, or a negative errno. */
 int queue_init(cd_chan_t *queue)
 {
-    /* No limit: the queue never says "wait" or "no". */
     return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+                        128); /* FIX: at most 128 lines */
 }
 
 /* A web worker logs one line. Count it in w->sent when it went into the
@@ -37,6 +36,6 @@
  * a drop the channel counts (cd_chan_try_send with CD_CHAN_SHED). */
 void log_line(cd_chan_t *queue, worker_t *w, const log_line_t *line)
 {
-    if (cd_chan_send(queue, line) == 0)
-        w->sent++;
+    if (cd_chan_try_send(queue, line, CD_CHAN_SHED) == 0) /* FIX: full? */
+        w->sent++;                   /* FIX: then shed, and counted */
 }

/* Another answer, backpressure: a bounded queue; wait at most 1 ms for room, then give the line up and count it (the lines marked FIX). */
--- lessons/exercises/backpressure.c
+++ lessons/answers/backpressure-timeout.c
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
@@ -37,6 +36,9 @@
  * a drop the channel counts (cd_chan_try_send with CD_CHAN_SHED). */
 void log_line(cd_chan_t *queue, worker_t *w, const log_line_t *line)
 {
-    if (cd_chan_send(queue, line) == 0)
+    int rc = cd_chan_timed_send(queue, line, 1); /* FIX: a bounded wait */
+    if (rc == 0)
         w->sent++;
+    else if (rc == -ETIMEDOUT)
+        w->gave_up++;                            /* FIX: given up, counted */
 }

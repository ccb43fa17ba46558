/* Answer key, backpressure: a bounded queue; a full one makes the worker wait (the lines marked FIX). */
--- lessons/exercises/backpressure.c
+++ lessons/answers/backpressure.c
@@ -27,9 +27,8 @@
  * the workers start: 0, or a negative errno. */
 int queue_init(cd_chan_t *queue)
 {
-    /* No limit: the queue never says "wait" or "no". */
     return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+                        128); /* FIX: at most 128 lines; a full queue waits */
 }
 
 /* A web worker logs one line. Count it in w->sent when it went into the

/* Decoy backpressure-keep: a bounded queue and a try send that forgets a line that does not fit (CD_CHAN_KEEP). Fails: the lines are gone and nobody counted them: "lost without a trace". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-keep.c
@@ -27,9 +27,7 @@
  * the workers start: 0, or a negative errno. */
 int queue_init(cd_chan_t *queue)
 {
-    /* No limit: the queue never says "wait" or "no". */
-    return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+    return cd_chan_init(queue, "log-queue", sizeof(log_line_t), 128);
 }
 
 /* A web worker logs one line. Count it in w->sent when it went into the
@@ -37,6 +35,6 @@
  * a drop the channel counts (cd_chan_try_send with CD_CHAN_SHED). */
 void log_line(cd_chan_t *queue, worker_t *w, const log_line_t *line)
 {
-    if (cd_chan_send(queue, line) == 0)
+    if (cd_chan_try_send(queue, line, CD_CHAN_KEEP) == 0)
         w->sent++;
 }

/* Decoy backpressure-keep: a bounded queue and a try send that forgets a line that does not fit (CD_CHAN_KEEP). Fails: the lines are gone and nobody counted them: "lost without a trace". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-keep.c
@@ -29,5 +29,3 @@
 {
-    /* No limit: the queue never says "wait" or "no". */
-    return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+    return cd_chan_init(queue, "log-queue", sizeof(log_line_t), 128);
 }
@@ -39,3 +37,3 @@
 {
-    if (cd_chan_send(queue, line) == 0)
+    if (cd_chan_try_send(queue, line, CD_CHAN_KEEP) == 0)
         w->sent++;

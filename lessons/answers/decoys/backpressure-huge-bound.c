/* Decoy backpressure-huge-bound: a bounded queue, with room for 10000 lines "to be safe". Fails: a bound of 5 MiB is no bound under a 1 MiB budget: "past the 1024 KiB budget". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-huge-bound.c
@@ -29,5 +29,3 @@
 {
-    /* No limit: the queue never says "wait" or "no". */
-    return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+    return cd_chan_init(queue, "log-queue", sizeof(log_line_t), 10000);
 }

/* Decoy backpressure-pace: an unbounded queue, and a pause of 0.6 ms before every line - slow enough for four workers to stay below the store's pace - named in a variable so no scan reads it. Fails: nothing bounds the queue; when the store is slower than the pause, it grows past its budget: "past the 1024 KiB budget". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-pace.c
@@ -34,2 +34,4 @@
 
+static const char *const pace = "keep-the-stores-pace";
+
 /* A web worker logs one line. Count it in w->sent when it went into the
@@ -39,2 +41,5 @@
 {
+    /* Four workers, each 0.6 ms a line: 6.7 lines a ms, below the
+     * store's 10. The wait's name is held in a variable. */
+    cd_latency(pace, 600);
     if (cd_chan_send(queue, line) == 0)

/* Decoy starvation-yield: each request yields the CPU before it takes the read lock, to let the trimmer in. Fails: the lock still lets every new reader past: "your fix depends on timing". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-yield.c
@@ -102,6 +102,8 @@
 
 /* =============================== your code =============================== */
 
+#include <sched.h> /* sched_yield */
+
 /* The limiter: the window and the lock that guards it. */
 typedef struct limiter {
     window_t window;
@@ -124,6 +126,7 @@
 /* One request: only reads the window. */
 static void check_request(limiter_t *lm, int index)
 {
+    sched_yield(); /* give the trimmer a chance first */
     cd_rwlock_rdlock(&lm->lock);
     read_window(&lm->window, index);
     cd_rwlock_unlock(&lm->lock);

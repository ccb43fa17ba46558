/* Decoy starvation-yield: each request yields the CPU before it takes the read lock, to let the trimmer in. Fails: the lock still lets every new reader past: "your fix depends on timing". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-yield.c
@@ -24,6 +24,8 @@
 #include "cd_thread.h"
 #include "harness/starvation.h"
 
+#include <sched.h> /* sched_yield */
+
 /* The limiter: the lock that guards the window. */
 struct limiter {
     cd_rwlock_t lock;
@@ -61,6 +63,7 @@
 /* One request: only reads the window. */
 void check_request(limiter_t *lm, int index)
 {
+    sched_yield(); /* give the trimmer a chance first */
     cd_rwlock_rdlock(&lm->lock);
     read_window(index);
     cd_rwlock_unlock(&lm->lock);

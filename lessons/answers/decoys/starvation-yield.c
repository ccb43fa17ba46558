/* Decoy starvation-yield: each request yields the CPU before it takes the read lock, to let the trimmer in. Fails: the lock still lets every new reader past: "your fix depends on timing". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-yield.c
@@ -26,2 +26,4 @@
 
+#include <sched.h> /* sched_yield */
+
 /* The limiter: the lock that guards the window. */
@@ -63,2 +65,3 @@
 {
+    sched_yield(); /* give the trimmer a chance first */
     cd_rwlock_rdlock(&lm->lock);

/* Decoy starvation-exclusive-fair: a first-come-first-served lock, and the requests take it to write, one at a time, so that none can overtake the trimmer. Fails: requests that only read no longer read together, so each waits for every other: "the readers never share". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-exclusive-fair.c
@@ -36,3 +36,3 @@
      * even while a writer waits. */
-    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
+    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_FAIR);
 }
@@ -63,3 +63,3 @@
 {
-    cd_rwlock_rdlock(&lm->lock);
+    cd_rwlock_wrlock(&lm->lock); /* one at a time, first come first served */
     read_window(index);

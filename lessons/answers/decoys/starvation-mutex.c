/* Decoy starvation-mutex: a plain mutex in place of the reader-writer lock, so that readers queue with the trimmer instead of walking past it. Fails: requests that only read no longer read together, and a plain mutex is no fairer to the trimmer than the old lock: "reads went in ahead of it". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-mutex.c
@@ -19,6 +19,7 @@
  */
 #include <stdlib.h>
 
+#include "cd_mutex.h"
 #include "cd_registry.h"
 #include "cd_rwlock.h"
 #include "cd_thread.h"
@@ -26,7 +27,8 @@
 
 /* The limiter: the lock that guards the window. */
 struct limiter {
-    cd_rwlock_t lock;
+    cd_rwlock_t lock; /* no longer used */
+    cd_mutex_t mutex; /* one thread in the window at a time */
 };
 
 /* Creates the lock before the threads start: 0, or -1 on failure. */
@@ -34,12 +36,15 @@
 {
     /* glibc's default: a reader gets in whenever no writer is inside,
      * even while a writer waits. */
+    if (cd_mutex_init(&lm->mutex, "window-mutex") != 0)
+        return -1;
     return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
 }
 
 static void limiter_lock_destroy(limiter_t *lm)
 {
     cd_rwlock_destroy(&lm->lock);
+    cd_mutex_destroy(&lm->mutex);
 }
 
 limiter_t *limiter_create(void)
@@ -61,15 +66,15 @@
 /* One request: only reads the window. */
 void check_request(limiter_t *lm, int index)
 {
-    cd_rwlock_rdlock(&lm->lock);
+    cd_mutex_lock(&lm->mutex); /* readers queue with the trimmer */
     read_window(index);
-    cd_rwlock_unlock(&lm->lock);
+    cd_mutex_unlock(&lm->mutex);
 }
 
 /* One trim: needs the window to itself. */
 void trim_window(limiter_t *lm)
 {
-    cd_rwlock_wrlock(&lm->lock);
+    cd_mutex_lock(&lm->mutex);
     drop_expired();
-    cd_rwlock_unlock(&lm->lock);
+    cd_mutex_unlock(&lm->mutex);
 }

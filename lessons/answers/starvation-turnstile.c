/* Another answer, starvation: a turnstile - a mutex every request passes through before the read lock, and that the trimmer holds while it waits for the write lock - in front of the same reader-preferring lock (the lines marked FIX). */
--- lessons/exercises/starvation.c
+++ lessons/answers/starvation-turnstile.c
@@ -19,6 +19,7 @@
  */
 #include <stdlib.h>
 
+#include "cd_mutex.h"
 #include "cd_registry.h"
 #include "cd_rwlock.h"
 #include "cd_thread.h"
@@ -27,6 +28,7 @@
 /* The limiter: the lock that guards the window. */
 struct limiter {
     cd_rwlock_t lock;
+    cd_mutex_t turnstile; /* FIX: the trimmer holds it while it waits */
 };
 
 /* Creates the lock before the threads start: 0, or -1 on failure. */
@@ -34,12 +36,15 @@
 {
     /* glibc's default: a reader gets in whenever no writer is inside,
      * even while a writer waits. */
+    if (cd_mutex_init(&lm->turnstile, "turnstile") != 0) /* FIX */
+        return -1;
     return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
 }
 
 static void limiter_lock_destroy(limiter_t *lm)
 {
     cd_rwlock_destroy(&lm->lock);
+    cd_mutex_destroy(&lm->turnstile);
 }
 
 limiter_t *limiter_create(void)
@@ -61,6 +66,8 @@
 /* One request: only reads the window. */
 void check_request(limiter_t *lm, int index)
 {
+    cd_mutex_lock(&lm->turnstile);   /* FIX: pass through the turnstile: */
+    cd_mutex_unlock(&lm->turnstile); /* a waiting trimmer holds it shut */
     cd_rwlock_rdlock(&lm->lock);
     read_window(index);
     cd_rwlock_unlock(&lm->lock);
@@ -69,7 +76,9 @@
 /* One trim: needs the window to itself. */
 void trim_window(limiter_t *lm)
 {
-    cd_rwlock_wrlock(&lm->lock);
+    cd_mutex_lock(&lm->turnstile);   /* FIX: no new reader gets in now */
+    cd_rwlock_wrlock(&lm->lock);     /* only the readers inside finish */
     drop_expired();
     cd_rwlock_unlock(&lm->lock);
+    cd_mutex_unlock(&lm->turnstile); /* FIX */
 }

C     Fibonacci numbers into A(1..N); no COMMON blocks, no SAVE: thread-safe.
      SUBROUTINE FIB(A, N)
      INTEGER N
      REAL*8 A(N)
Cf2py intent(in) n
Cf2py intent(out) a
Cf2py depend(n) a
      DO I = 1, N
         IF (I .LE. 2) THEN
            A(I) = 1.0D0
         ELSE
            A(I) = A(I-1) + A(I-2)
         ENDIF
      ENDDO
      END

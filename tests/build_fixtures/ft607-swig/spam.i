/* expect-next: FT607 */
%module spam
%{
#include "spam.h"
%}
int spam(int);

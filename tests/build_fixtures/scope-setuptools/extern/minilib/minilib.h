int mini_add(int a, int b);
int mini_unused(void);

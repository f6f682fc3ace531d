# expect: FT607
def add(int a, int b):
    return a + b

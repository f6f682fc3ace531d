static int extra_calls = 0;

int extra_work(void)
{
    extra_calls++; /* expect: FT401 */
    return extra_calls;
}

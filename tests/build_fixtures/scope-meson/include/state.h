static int header_state = 0;

static inline void touch_state(void)
{
    header_state++; /* expect: FT401 */
}

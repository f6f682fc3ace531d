from setuptools import setup, Extension

setup(
    name="inits",
    ext_modules=[
        Extension("inits._squash", ["a_obj.c"]),
        Extension("inits.paste", ["b_paste.c"]),
        Extension("inits.cat", ["c_cat.c"]),
        Extension("inits.vis", ["d_vis.c"]),
        Extension("inits.ext", ["e_ext.cpp"]),
        Extension("inits.extblock", ["f_extblock.cpp"]),
        Extension("inits._hdr", ["g_hdr.c"]),
        Extension("inits.hdr2", ["h_hdr2.c"]),
        Extension("inits.attr", ["i_attr.c"]),
        Extension("inits.vis2", ["j_vis2.c"]),
        Extension("inits.twolevel", ["l_twolevel.c"]),
        Extension("inits.unknown", ["k_unknown.c"]),  # expect: FT008
    ],
)

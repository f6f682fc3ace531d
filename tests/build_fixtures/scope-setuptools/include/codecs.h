int codec_size(void);

%module(threads="1") eggs
int eggs(int);

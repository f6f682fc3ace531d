int core_bump();
